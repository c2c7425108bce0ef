import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.js';
import { configFromEnv } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { AppInstance } from '../../src/modules/module.js';
import { startPrivateRedis, waitUntil } from '../helpers/redis-server.js';
import { buildSnapshot } from '../helpers/snapshots.js';
import { TEST_API_KEYS } from '../helpers/app.js';

describe('readiness follows Redis', () => {
  let redisServer: Awaited<ReturnType<typeof startPrivateRedis>>;
  let redis: Redis;
  let app: AppInstance;

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
    app = await buildApp(config, { clock: () => Date.now(), logger: createLogger('silent'), redis, marketSource: null });
    await app.ready();
    await app.services.heatmaps.publish(buildSnapshot({ symbol: 'BTCUSDT', asOf: Date.now() }));
  });
  afterAll(async () => {
    await app.close();
    redis.disconnect();
    await redisServer.stop();
  });

  const ready = async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode;

  it('when Redis is stopped, then readiness turns 503 naming the store, and 200 again when it returns', async () => {
    expect(await ready()).toBe(200);
    await redisServer.stop();
    await waitUntil(async () => (await ready()) === 503, 10_000, 'readiness 503');
    const body = (await app.inject({ method: 'GET', url: '/health/ready' })).json<{ notReady: string[] }>();
    expect(body.notReady).toContain('store');
    await redisServer.start();
    await waitUntil(async () => (await ready()) === 200, 15_000, 'readiness 200 again');
  });
});
