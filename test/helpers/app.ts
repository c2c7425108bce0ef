import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.js';
import { configFromEnv } from './config.js';
import type { AppConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import type { AppDeps, AppInstance } from '../../src/modules/module.js';
import type { MarketSource } from '../../src/market/market-source.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { INITIALISED_FIELD } from '../../src/stores/trading-state-store.redis.js';
import { deletePrefix, randomPrefix, testRedisUrl } from './redis.js';

/**
 * Writes the trading-state initialisation marker under `prefix`, as the first admin PUT of
 * a deployment would: without it every scope of a Redis store reads as HALTED.
 */
export async function initialiseTradingState(redis: Redis, prefix: string): Promise<void> {
  await redis.hset(redisKeys(prefix).tradingState(), INITIALISED_FIELD, JSON.stringify({ by: 'test', at: new Date(0).toISOString() }));
}

export const TEST_KEYS = {
  pretrade: 'test-pretrade-key-0001',
  read: 'test-read-key-000001',
  admin: 'test-admin-key-00001',
  all: 'test-all-scopes-0001',
  metrics: 'test-metrics-key-001',
} as const;

export const TEST_API_KEYS = `pretrader=${TEST_KEYS.pretrade}:pretrade,reader=${TEST_KEYS.read}:read,admin=${TEST_KEYS.admin}:admin,all=${TEST_KEYS.all}:pretrade+read+admin,scraper=${TEST_KEYS.metrics}:metrics`;

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

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
  clock?: () => number;
  marketSource?: MarketSource | null;
  /** Redis store: whether the trading state starts initialised (default true; false: every scope HALTED). */
  tradingStateInitialised?: boolean;
  /** Runs before app.ready(), e.g. to add a probe route. */
  beforeReady?: (app: AppInstance) => void | Promise<void>;
}

export interface TestApp {
  app: AppInstance;
  config: AppConfig;
  logs: ReturnType<typeof logSink>;
  redis: Redis | null;
  prefix: string;
  close(): Promise<void>;
}

/**
 * Builds the real app for a test, with test keys, a captured logger and (optionally)
 * a real Redis under a random prefix. `close()` closes the app, deletes the prefix's
 * keys and closes the client.
 */
export async function buildTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const store = opts.store ?? 'memory';
  const prefix = randomPrefix('app');
  const config = configFromEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    API_KEYS: TEST_API_KEYS,
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    STORE: store,
    REDIS_KEY_PREFIX: prefix,
    ...(store === 'redis' ? { REDIS_URL: testRedisUrl() } : {}),
    ...opts.env,
  });
  const logs = logSink();
  const redis = store === 'redis' ? new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 }) : null;
  if (redis && opts.tradingStateInitialised !== false) await initialiseTradingState(redis, prefix);
  const deps: AppDeps = {
    clock: opts.clock ?? (() => Date.now()),
    logger: createLogger(config.server.logLevel, logs.stream),
    redis,
    marketSource: opts.marketSource ?? null,
  };
  const app = await buildApp(config, deps);
  await opts.beforeReady?.(app);
  await app.ready();
  await app.started; // ready() waits for module start only up to STARTUP_WAIT_MS
  return {
    app,
    config,
    logs,
    redis,
    prefix,
    close: async () => {
      await app.close();
      if (redis) {
        await deletePrefix(redis, prefix);
        await redis.quit();
      }
    },
  };
}
