import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.js';
import { configFromEnv } from '../helpers/config.js';
import { createLogger } from '../../src/logger.js';
import type { AppInstance } from '../../src/modules/module.js';
import { closeStores, createStores, type Stores } from '../../src/stores/index.js';
import { publishTo } from '../helpers/observe.js';
import { startPrivateRedis, waitUntil } from '../helpers/redis-server.js';
import { buildSnapshot } from '../helpers/snapshots.js';
import { TEST_API_KEYS } from '../helpers/app.js';

describe('health while Redis comes and goes', () => {
  let redisServer: Awaited<ReturnType<typeof startPrivateRedis>>;
  let redis: Redis;
  let app: AppInstance;
  let stores: Stores;

  beforeAll(async () => {
    redisServer = await startPrivateRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => {});
    const config = configFromEnv({
      NODE_ENV: 'test',
      STORE: 'redis',
      REDIS_URL: redisServer.url,
      API_KEYS: TEST_API_KEYS,
      SYMBOLS: 'BTCUSDT',
      HEATMAP_MAX_AGE_MS: '3600000',
    });
    const clock = () => Date.now();
    const logger = createLogger('silent');
    stores = createStores(config, { redis, clock, logger });
    app = await buildApp(config, { clock, logger, redis, marketSource: null, stores });
    await app.ready();
    await publishTo(app, stores.heatmaps, buildSnapshot({ symbol: 'BTCUSDT', asOf: Date.now() }));
  });
  afterAll(async () => {
    await app.close();
    await closeStores(stores);
    redis.disconnect();
    await redisServer.stop();
  });

  const get = async (url: string) => await app.inject({ method: 'GET', url });
  const storeDegraded = async () => (await get('/health/status')).json<{ degraded: string[] }>().degraded.includes('store');

  it('when Redis is stopped, then the replica stays routable (ready 200) and /health/status names the store, until Redis returns', async () => {
    expect(await storeDegraded()).toBe(false);
    await redisServer.stop();
    await waitUntil(storeDegraded, 10_000, 'store degraded');
    expect((await get('/health/status')).statusCode).toBe(200);
    expect((await get('/health/ready')).statusCode).toBe(200);
    await redisServer.start();
    await waitUntil(async () => !(await storeDegraded()), 15_000, 'store healthy again');
  });
});
