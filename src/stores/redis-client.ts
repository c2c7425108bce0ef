import type { Cluster, Redis } from 'ioredis';

/**
 * The Redis client the stores take: one server or a Sentinel-managed primary (`Redis`),
 * or a Redis Cluster (`Cluster`). Both answer the same commands; what differs is that on a
 * Cluster every multi-key script and MULTI must keep its keys in one hash slot (see
 * redis-keys.ts) and a keyless command goes to any node.
 */
export type RedisClient = Redis | Cluster;
