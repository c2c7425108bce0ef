import type { Cluster } from '../../../src/domain/heatmap/types.js';
import type { OrderBook } from '../../../src/domain/market-data.js';
import type { AppInstance } from '../../../src/modules/module.js';
import type { HeatmapSnapshot, NewHeatmapSnapshot } from '../../../src/stores/heatmap-store.js';
import { beforeEach } from 'vitest';
import { bearer, TEST_KEYS, type manualClock, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { appForSuite } from '../../helpers/suite.js';
import { buildBook, buildHeatmap, FULL_CONFIDENCE, NOW } from '../../domain/pretrade/factories.js';

export { NOW };

/** Where a test writes heatmaps: a TestApp (its `publish` resolves once the app serves the map). */
export interface HeatmapPublisher {
  publish(snapshot: NewHeatmapSnapshot): Promise<HeatmapSnapshot>;
}

/** Puts a fresh calm heatmap (or the given clusters/book) in place for a symbol. */
export async function publishHeatmap(
  target: HeatmapPublisher,
  opts: { symbol?: string; clusters?: Cluster[]; orderBook?: OrderBook | null; asOf?: number } = {},
): Promise<HeatmapSnapshot> {
  const symbol = opts.symbol ?? 'BTCUSDT';
  const asOf = opts.asOf ?? NOW - 1_000;
  const heatmap = buildHeatmap({ symbol, asOf, ...(opts.clusters ? { clusters: opts.clusters } : {}) });
  return target.publish({
    symbol,
    asOf,
    source: 'sim',
    venues: ['binanceusdm'],
    heatmap,
    orderBook: opts.orderBook === undefined ? buildBook({ ts: asOf }) : opts.orderBook,
    confidence: FULL_CONFIDENCE,
  });
}

/**
 * Within a describe: one real gate app for the block, and before each test its clock back
 * at NOW and a fresh calm BTCUSDT heatmap in place. Returns the app's getter.
 */
export function gateForSuite(opts: TestAppOptions & { clock: ReturnType<typeof manualClock> }): () => TestApp {
  const app = appForSuite(opts);
  beforeEach(async () => {
    opts.clock.set(NOW);
    await publishHeatmap(app());
  });
  return app;
}

/** The reason codes of a decision body, in order. */
export const codes = (body: { reasons: readonly { code: string }[] }): string[] => body.reasons.map((r) => r.code);

export function buildRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { symbol: 'BTCUSDT', side: 'buy', quantity: 1, orderType: 'market', ...overrides };
}

export function check(app: AppInstance, body: unknown, key: string = TEST_KEYS.pretrade) {
  return app.inject({ method: 'POST', url: '/pretrade-check', headers: bearer(key), payload: body as object });
}

export function putTradingState(app: AppInstance, body: unknown, key: string = TEST_KEYS.admin) {
  return app.inject({ method: 'PUT', url: '/admin/trading-state', headers: bearer(key), payload: body as object });
}

export function getTradingState(app: AppInstance, key: string = TEST_KEYS.admin) {
  return app.inject({ method: 'GET', url: '/admin/trading-state', headers: bearer(key) });
}

export function checkBatch(app: AppInstance, orders: unknown[], key: string = TEST_KEYS.pretrade) {
  return app.inject({ method: 'POST', url: '/pretrade-check/batch', headers: bearer(key), payload: { orders } });
}
