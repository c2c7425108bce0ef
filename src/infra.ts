import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from './config/index.js';
import type { AppDeps } from './modules/module.js';
import { createMarketSource } from './market/index.js';
import { redactUrl } from './logger.js';

const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to Redis and waits for it to answer, so a bad REDIS_URL fails at boot with a
 * clear message rather than at the first order. The URL is logged without its password.
 */
export async function connectRedis(url: string, logger: Logger, password?: string): Promise<Redis> {
  const redis = new Redis(url, {
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    // Fail commands fast while disconnected instead of queueing them for ever; callers
    // that must not lose data (the audit log) buffer on their own.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
  // The first failure's own message (e.g. NOAUTH) is often only on the 'error' event.
  let lastError: string | undefined;
  redis.on('error', (err: Error) => {
    lastError = err.message;
    logger.warn({ err: { message: err.message } }, 'redis connection error');
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const message = (err as Error).message;
    const cause = lastError && lastError !== message ? ` (${lastError})` : '';
    throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${message}${cause}`);
  }
  logger.info({ redis: redactUrl(url) }, 'connected to redis');
  return redis;
}

export interface Infra {
  deps: AppDeps;
  /** Closes what createInfra opened (after the app has closed). */
  close(): Promise<void>;
}

/** Creates the real dependencies named by the configuration. */
export async function createInfra(config: AppConfig, logger: Logger): Promise<Infra> {
  const clock = () => Date.now();
  const redis = config.store.kind === 'redis' && config.store.redisUrl ? await connectRedis(config.store.redisUrl, logger, config.store.redisPassword) : null;
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
