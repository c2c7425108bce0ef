import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from './config/index.js';
import type { AppDeps } from './modules/module.js';
import { createMarketSource } from './market/index.js';
import { redactUrl } from './logger.js';
import type { RedisClient } from './stores/redis-client.js';

const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long the first connection may take in all, the Cluster's first slot-map refresh
 * included: a Cluster client whose seed nodes accept connections but never give a slot
 * map (a node still joining, not a cluster node) retries for ever otherwise.
 */
export const REDIS_STARTUP_TIMEOUT_MS = 15_000;

/** Where Redis is: one URL, a Sentinel-managed primary, or a Cluster's seed nodes. */
export type RedisTarget =
  | string
  | { sentinels: { host: string; port: number }[]; name: string }
  | { nodes: { host: string; port: number }[] };

function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') return redactUrl(target);
  if ('sentinels' in target) return `sentinel ${target.name} via ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  return `cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}

function createClient(target: RedisTarget, password: string | undefined): RedisClient {
  const options: RedisOptions = {
    ...(password === undefined ? {} : { password }),
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    // Fail commands fast while disconnected instead of queueing them for ever; callers
    // that must not lose data (the audit log) buffer on their own.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  };
  if (typeof target === 'string') return new Redis(target, { ...options, lazyConnect: true });
  if ('sentinels' in target) {
    return new Redis({
      ...options,
      lazyConnect: true,
      sentinels: target.sentinels,
      name: target.name,
      sentinelRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
      // Sentinels announce a new primary (+switch-master): reconnect at once instead of
      // waiting for the old primary's connection to fail.
      failoverDetector: true,
    });
  }
  return new Cluster(target.nodes, {
    lazyConnect: true,
    redisOptions: options,
    enableOfflineQueue: true,
    clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
}

/**
 * Connects to Redis (one server, through Sentinel, or a Cluster) and waits for it to answer,
 * so a bad address fails at boot with a clear message rather than at the first order. The
 * URL is logged without its password.
 */
export async function connectRedis(
  target: RedisTarget,
  logger: Logger,
  password?: string,
  opts: { startupTimeoutMs?: number } = {},
): Promise<RedisClient> {
  const redis = createClient(target, password);
  // The first failure's own message (e.g. NOAUTH) is often only on the 'error' event.
  let lastError: string | undefined;
  redis.on('error', (err: Error) => {
    lastError = err.message;
    logger.warn({ err: { message: err.message } }, 'redis connection error');
  });
  const timeoutMs = opts.startupTimeoutMs ?? REDIS_STARTUP_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    const what = redis.isCluster ? 'no slot map from the cluster' : 'no answer';
    timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await redis.connect();
        await redis.ping();
      })(),
      late,
    ]);
  } catch (err) {
    redis.disconnect();
    const message = (err as Error).message;
    const cause = lastError && lastError !== message ? ` (${lastError})` : '';
    throw new Error(`cannot connect to Redis at ${describeTarget(target)}: ${message}${cause}`);
  } finally {
    clearTimeout(timer);
  }
  logger.info({ redis: describeTarget(target) }, 'connected to redis');
  return redis;
}

/** The Redis target the configuration names, or null when the store is memory. */
export function redisTarget(store: AppConfig['store']): RedisTarget | null {
  if (store.kind !== 'redis') return null;
  const t = store.redisTopology;
  if (t?.kind === 'sentinel') return { sentinels: t.sentinels, name: t.name };
  if (t?.kind === 'cluster') return { nodes: t.nodes };
  return store.redisUrl ?? null;
}

export interface Infra {
  deps: AppDeps;
  /** Closes what createInfra opened (after the app has closed). */
  close(): Promise<void>;
}

/** Creates the real dependencies named by the configuration. */
export async function createInfra(config: AppConfig, logger: Logger): Promise<Infra> {
  const clock = () => Date.now();
  const target = redisTarget(config.store);
  const redis = target === null ? null : await connectRedis(target, logger, config.store.redisPassword);
  let marketSource;
  try {
    marketSource = await createMarketSource(
      {
        source: config.market.source,
        symbols: config.market.symbols,
        venues: config.market.venues,
        replayDir: config.market.replayDir,
        barTimeframe: config.market.barTimeframe,
        simBarIntervalMs: config.market.simBarIntervalMs,
        simSeed: config.market.simSeed,
        simCorrelation: config.market.simCorrelation,
        pollIntervalMs: config.market.pollIntervalMs,
      },
      { clock, logger: logger.child({ component: 'market' }) },
    );
  } catch (err) {
    redis?.disconnect();
    throw err;
  }
  return {
    deps: { clock, logger, redis, marketSource },
    close: async () => {
      await marketSource.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
