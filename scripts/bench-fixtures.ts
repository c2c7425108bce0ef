import type { Cluster, Heatmap } from '../src/domain/heatmap/types.js';
import type { OrderBook } from '../src/domain/market-data.js';

/** What scripts/bench-pretrade.ts sends and scripts/bench-server.ts accepts. */
export const BENCH_KEY = 'bench-pretrade-key-0001';

/** The hot path: no clientOrderId, so no idempotency store round trip. */
export const BENCH_ORDER = {
  symbol: 'BTCUSDT',
  side: 'buy',
  quantity: 0.5,
  orderType: 'market',
  accountId: 'bench',
  strategyId: 'momentum-1',
};

/**
 * The production view's order: BENCH_ORDER at 2x leverage, which the rules approve on the
 * synthetic market (at the default leverage its liquidation lies in a major zone and the
 * rules reject it, and a rejection never reaches the exposure check).
 */
export const BENCH_PRODUCTION_ORDER = { ...BENCH_ORDER, leverage: 2 };

/**
 * The production view spreads its orders over this many accounts (`bench-0` …), as a
 * deployment serves many: each account's check-and-reserve then reads a handful of open
 * reservations, not thousands.
 */
export const BENCH_ACCOUNTS = 500;

/**
 * The exposure policy of the Redis targets: nothing fills or releases a reservation in the
 * benchmark, so reservations last the shortest allowed (1 s), and the trading limits are
 * raised past the offered rates (2,000 orders a minute per account at most here), so every
 * order goes through the whole check and is approved (limits binding would be cheaper
 * rejections, not the work an approval costs).
 */
export const BENCH_EXPOSURE_POLICY = {
  reservationTtlMs: 1_000,
  limits: { maxApprovedOrders: 1_000_000, maxApprovedNotionalUsd: null },
};

/** A realistic BTCUSDT market at `now`: clusters on both sides, a 200-level book. */
export function syntheticMarket(now: number): { heatmap: Heatmap; orderBook: OrderBook } {
  const mark = 97_250;
  const cluster = (side: 'long' | 'short', distBps: number, notionalUsd: number, major: boolean): Cluster => {
    const edge = side === 'long' ? mark * (1 - distBps / 10_000) : mark * (1 + distBps / 10_000);
    const far = side === 'long' ? edge - mark * 0.0015 : edge + mark * 0.0015;
    const priceLow = Math.min(edge, far);
    const priceHigh = Math.max(edge, far);
    return { side, peakPrice: (priceLow + priceHigh) / 2, priceLow, priceHigh, notionalUsd, share: notionalUsd / 400e6, distanceBps: distBps, major };
  };
  const clusters = [
    cluster('long', 180, 60e6, true),
    cluster('long', 420, 35e6, false),
    cluster('long', 900, 80e6, true),
    cluster('short', 240, 45e6, true),
    cluster('short', 650, 30e6, false),
    cluster('short', 1_100, 70e6, true),
  ];
  const bins = Array.from({ length: 201 }, (_, i) => ({ price: mark * (0.9 + i * 0.001), longUsd: 1e6, shortUsd: 1e6, probability: 1 / 201 }));
  const heatmap: Heatmap = {
    symbol: 'BTCUSDT',
    venues: ['binanceusdm', 'bybit', 'okx'],
    asOf: now,
    markPrice: mark,
    binBps: 10,
    rangePct: 0.1,
    bins,
    clusters,
    crowding: { side: 'long', strength: 0.35, fundingRate: 0.0002, oiChangePct: 0.04 },
    risk: { score: 38, inputs: {} },
    totalLongUsd: 200e6,
    totalShortUsd: 200e6,
    openInterestUsd: 8e9,
  };
  const bids = [];
  const asks = [];
  for (let i = 0; i < 200; i++) {
    bids.push({ price: mark - 0.05 - i * 2, size: 0.8 + (i % 7) * 0.3 });
    asks.push({ price: mark + 0.05 + i * 2, size: 0.8 + (i % 5) * 0.35 });
  }
  return { heatmap, orderBook: { ts: now, bids, asks } };
}
