import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { RedisClient } from '../../src/stores/redis-client.js';
import { buildApp } from '../../src/app.js';
import { configFromEnv } from './config.js';
import type { AppConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps, AppInstance } from '../../src/modules/module.js';
import type { MarketSource } from '../../src/market/market-source.js';
import type { HeatmapSnapshot, NewHeatmapSnapshot } from '../../src/stores/heatmap-store.js';
import { closeStores, createStores, type Stores } from '../../src/stores/index.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { INITIALISED_FIELD } from '../../src/stores/trading-state-store.redis.js';
import { publishTo } from './observe.js';
import { deletePrefix, randomPrefix, testRedisUrl } from './redis.js';

/**
 * Writes the trading-state initialisation marker under `prefix`, as the first admin PUT of
 * a deployment would: without it every scope of a Redis store reads as HALTED.
 */
export async function initialiseTradingState(redis: RedisClient, prefix: string): Promise<void> {
  await redis.hset(redisKeys(prefix).tradingState(), INITIALISED_FIELD, JSON.stringify({ by: 'test', at: new Date(0).toISOString() }));
}

import { TEST_APP_API_KEYS } from './keys.js';

export { bearer, TEST_API_KEYS, TEST_APP_API_KEYS, TEST_KEYS } from './keys.js';

/** A manual clock tests move explicitly. */
export function manualClock(start = Date.UTC(2026, 0, 6, 11, 0, 0)) {
  let now = start;
  const clock = () => now;
  return Object.assign(clock, {
    set: (t: number) => {
      now = t;
    },
    advance: (ms: number) => {
      now += ms;
    },
  });
}

/** Captures log lines so tests can assert what reached the logs (and what did not). */
export function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines, text: () => lines.join('\n') };
}

export interface TestAppOptions {
  env?: Record<string, string>;
  store?: 'memory' | 'redis';
  /** Redis store: a client of the test's own (Sentinel, Cluster) instead of one on REDIS_URL; the test closes it and its keys. */
  redis?: RedisClient;
  clock?: () => number;
  marketSource?: MarketSource | null;
  /** Redis store: whether the trading state starts initialised (default true; false: every scope HALTED). */
  tradingStateInitialised?: boolean;
  /** Stores to use instead of the ones the config names (a failing audit log, ...); given the ones it names. */
  stores?: Partial<Stores> | ((built: Stores) => Partial<Stores>);
  /** Runs before app.ready(), e.g. to add a probe route. */
  beforeReady?: (app: AppInstance) => void | Promise<void>;
}

export interface TestApp {
  app: AppInstance;
  config: AppConfig;
  logs: ReturnType<typeof logSink>;
  /** The client this helper opened on REDIS_URL (null with `opts.redis`: the test has its own). */
  redis: Redis | null;
  prefix: string;
  /** The stores the app was built with (as given: not instrumented). */
  stores: Stores;
  /** Writes a heatmap to the app's heatmap store, as the poller would, and resolves once the app serves it. */
  publish(snapshot: NewHeatmapSnapshot): Promise<HeatmapSnapshot>;
  close(): Promise<void>;
}

/**
 * Builds the real app for a test, with test keys, a captured logger, (optionally) a real
 * Redis under a random prefix, and the stores the config names, any of them replaced by
 * `opts.stores`. `close()` closes the app and the stores, deletes the prefix's keys and closes the client.
 */
export async function buildTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const store = opts.store ?? 'memory';
  const config = configFromEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    API_KEYS: TEST_APP_API_KEYS,
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    STORE: store,
    REDIS_KEY_PREFIX: randomPrefix('app'),
    ...(store === 'redis' ? { REDIS_URL: testRedisUrl() } : {}),
    ...opts.env,
  });
  const prefix = config.store.keyPrefix;
  const logs = logSink();
  const own = store === 'redis' && !opts.redis ? new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 }) : null;
  const redis = store === 'redis' ? (opts.redis ?? own) : null;
  const clock = opts.clock ?? (() => Date.now());
  const logger = createLogger(config.server.logLevel, logs.stream);
  const built = createStores(config, { redis, clock, logger });
  const replaced = typeof opts.stores === 'function' ? opts.stores(built) : (opts.stores ?? {});
  const stores: Stores = { ...built, ...replaced };
  if (redis && opts.tradingStateInitialised !== false) await initialiseTradingState(redis, prefix);
  const deps: AppDeps = { clock, logger, redis, marketSource: opts.marketSource ?? null, stores };
  const app = await buildApp(config, deps);
  await opts.beforeReady?.(app);
  await app.ready();
  await app.started; // ready() waits for module start only up to STARTUP_WAIT_MS
  return {
    app,
    config,
    logs,
    redis: own,
    prefix,
    stores,
    publish: (snapshot) => publishTo(app, stores.heatmaps, snapshot),
    close: async () => {
      await app.close();
      await closeStores(stores);
      if (own) {
        await deletePrefix(own, prefix);
        await own.quit();
      }
    },
  };
}
