import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { noMetrics } from '../../../src/metrics.js';
import { createHeatmapModule, type LiquidationBatch } from '../../../src/modules/heatmaps/index.js';
import { closeStores, createStores } from '../../../src/stores/index.js';
import { redisKeys } from '../../../src/stores/redis-keys.js';
import { TEST_APP_API_KEYS } from '../../helpers/app.js';
import { configFromEnv } from '../../helpers/config.js';
import { FakeMarketSource } from './fake-source.js';

// The one place consumers of realized liquidations (model health, ...) hook into the heatmap module.

describe('heatmap module: realized liquidations', () => {
  it('when its poller fetches new realized liquidations, then every listener gets them once per symbol and poll, and an unsubscribed one no more', async () => {
    const config = configFromEnv({ NODE_ENV: 'test', API_KEYS: TEST_APP_API_KEYS, SYMBOLS: 'BTCUSDT', STORE: 'memory', POLL_INTERVAL_MS: '60000' });
    const clock = () => Date.now();
    const logger = createLogger('silent');
    const stores = createStores(config, { redis: null, clock, logger });
    const source = new FakeMarketSource(clock, { venues: ['binanceusdm'] });
    const event = { ts: Date.now() - 1_000, side: 'short' as const, price: 101_000, usd: 9_000 };
    source.liquidations.set('binanceusdm', [event]);
    const module = createHeatmapModule(
      { config, clock, logger, marketSource: source, stores, keys: redisKeys(config.store.keyPrefix), metrics: noMetrics },
      { agreement: async () => ({ version: 'v', replicas: null, agree: null }) },
    );
    const seen: LiquidationBatch[] = [];
    const gone: LiquidationBatch[] = [];
    module.onRealizedLiquidations((b) => seen.push(b));
    const off = module.onRealizedLiquidations((b) => gone.push(b));
    off();
    try {
      await module.start();
      await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 10_000, interval: 50 });
      expect(seen[0]).toMatchObject({ symbol: 'BTCUSDT', venues: [{ venue: 'binanceusdm', events: [{ ...event, venue: 'binanceusdm' }] }] });
      expect(gone).toEqual([]);
    } finally {
      await module.stop();
      await closeStores(stores);
    }
  });
});
