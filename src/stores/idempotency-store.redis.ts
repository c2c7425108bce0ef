import type { RedisClient } from './redis-client.js';
import { primaryWrites, type DurableWrites } from './durable-writes.js';
import type { IdempotencyEntry, IdempotencyStore } from './idempotency-store.js';

/**
 * Idempotency on Redis: `SET key value NX PX ttl GET` (Redis >= 7.0) stores the entry
 * and returns any entry already there in ONE round trip, atomically, so two replicas
 * racing on the same clientOrderId agree on the first decision. The write goes through
 * `writes` (AUDIT_DURABILITY=replica: WAIT for a replica; when that fails the gate keeps
 * the record locally and pushes it later, as in an outage).
 */
export function createRedisIdempotencyStore(redis: RedisClient, writes: DurableWrites = primaryWrites(redis)): IdempotencyStore {
  return {
    putIfAbsent: async <T>(key: string, entry: IdempotencyEntry<T>, ttlMs: number) => {
      const previous = (await writes.write((conn) => conn.call('SET', key, JSON.stringify(entry), 'NX', 'PX', String(ttlMs), 'GET'))) as
        | string
        | null;
      return previous === null ? null : (JSON.parse(previous) as IdempotencyEntry<T>);
    },
  };
}
