import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { configFromEnv } from '../helpers/config.js';
import { createLogger } from '../../src/logger.js';
import { TransientMarketError, type MarketSource } from '../../src/market/market-source.js';
import type { AppInstance } from '../../src/modules/module.js';
import { bearer, buildTestApp, TEST_API_KEYS, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { deletePrefix, randomPrefix, testRedisUrl } from '../helpers/redis.js';
import { waitUntil } from '../helpers/redis-server.js';
import { holdingProxy } from './holding-proxy.js';

/** A market source whose calls hang until released (a venue whose name does not resolve), then fail. */
function hangingMarketSource() {
  let calls = 0;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const hang = async (venue: string): Promise<never> => {
    calls += 1;
    await released;
    throw new TransientMarketError('released by the test', venue);
  };
  const source: MarketSource = {
    name: 'ccxt',
    venues: () => ['binanceusdm', 'bybit', 'okx'],
    fetchBars: (_s, venue) => hang(venue),
    fetchTick: (_s, venue) => hang(venue),
    close: async () => undefined,
  };
  return { source, calls: () => calls, release };
}

describe('startup does not depend on slow network calls', () => {
  describe('when every venue call hangs from the start', () => {
    let t: TestApp;
    let market: ReturnType<typeof hangingMarketSource>;
    beforeAll(async () => {
      market = hangingMarketSource();
      t = await buildTestApp({ store: 'redis', marketSource: market.source, env: { SYMBOLS: 'BTCUSDT' } });
    });
    afterAll(async () => {
      market.release();
      await t.close();
    });

    it('then the app starts, is routable, decides (rejects) and reports the missing heatmap as a degradation', async () => {
      await waitUntil(async () => market.calls() > 0, 10_000, 'the poller to call the venues');
      const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      const check = await t.app.inject({
        method: 'POST',
        url: '/pretrade-check',
        headers: bearer(TEST_KEYS.pretrade),
        payload: { symbol: 'BTCUSDT', side: 'buy', notional: 1000, orderType: 'market' },
      });
      expect(check.statusCode).toBe(200);
      expect(check.json<{ decision: string }>().decision).toBe('REJECT');
      const status = await t.app.inject({ method: 'GET', url: '/health/status' });
      expect(status.json<{ degraded: string[] }>().degraded).toContain('heatmap:BTCUSDT');
    });
  });

  describe('when the Redis connections opened at startup hang (slow name resolution)', () => {
    let proxy: Awaited<ReturnType<typeof holdingProxy>>;
    let redis: Redis;
    let app: AppInstance;
    const prefix = randomPrefix('startup');

    beforeAll(async () => {
      proxy = await holdingProxy(testRedisUrl());
      redis = new Redis(proxy.url, { maxRetriesPerRequest: 1 });
      await redis.ping(); // the main connection is up; the subscriber connections will hang
      proxy.hold();
      const config = configFromEnv({
        NODE_ENV: 'test',
        STORE: 'redis',
        REDIS_URL: proxy.url,
        REDIS_KEY_PREFIX: prefix,
        API_KEYS: TEST_API_KEYS,
        SYMBOLS: 'BTCUSDT',
        STARTUP_WAIT_MS: '200',
      });
      app = await buildApp(config, { clock: () => Date.now(), logger: createLogger('silent'), redis, marketSource: null });
    });
    afterAll(async () => {
      proxy.release();
      await app.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
      await proxy.close();
    });

    it('then ready() returns anyway, the replica is live but not routable, and routable once the connections go through', async () => {
      await app.ready(); // would be Fastify's onReady timeout (a crash) if startup waited for Redis
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      const starting = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(starting.statusCode).toBe(503);
      expect(starting.json()).toMatchObject({ status: 'starting' });
      proxy.release();
      await app.started;
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({ status: 'ready' });
    });
  });
});
