import fc from 'fast-check';
import type { Cascades, Cluster, Heatmap } from '../../../src/domain/heatmap/types.js';
import type { OrderBook, Side } from '../../../src/domain/market-data.js';
import type { PretradeContext } from '../../../src/domain/pretrade/evaluate.js';
import { MaintenanceMarginSchema, type MaintenanceMargin } from '../../../src/domain/margin.js';
import { PretradePolicySchema, type PretradePolicy } from '../../../src/domain/pretrade/policy.js';
import type { MarketView, PretradeOrder } from '../../../src/domain/pretrade/types.js';
import type { Confidence } from '../../../src/domain/model-health/types.js';

/**
 * Test data for the pre-trade gate (also meant for the service tests). Defaults describe
 * a calm market: mark 100,000, a deep book (10 BTC every bps), major clusters 5% away on
 * both sides, neutral crowding, volatility below the reference, funding mid-history, on a
 * Tuesday at 11:30 UTC (time-of-day multiplier 1); orders at 5x leverage.
 */

export const MARK = 100_000;
/** Tuesday 2026-11-24 11:30 UTC: multiplier 1.0 (the liquidity peak). */
export const WEEKDAY_1130 = Date.UTC(2026, 10, 24, 11, 30);
/** Tuesday 2026-11-24 21:30 UTC: multiplier 0.61 (the trough). */
export const WEEKDAY_2130 = Date.UTC(2026, 10, 24, 21, 30);
/** Saturday 2026-11-28 11:30 UTC: 1.0 x weekend factor. */
export const SATURDAY_1130 = Date.UTC(2026, 10, 28, 11, 30);
export const NOW = WEEKDAY_1130;
export const MAX_AGE_MS = 60_000;

export function buildPolicy(overrides: Partial<PretradePolicy> = {}): PretradePolicy {
  return PretradePolicySchema.parse(overrides);
}

export function buildOrder(overrides: Partial<PretradeOrder> = {}): PretradeOrder {
  const o: PretradeOrder = {
    symbol: 'BTCUSDT',
    side: 'buy',
    orderType: 'market',
    leverage: 5,
    reduceOnly: false,
    ...overrides,
  };
  if (!('quantity' in overrides) && !('notional' in overrides)) o.quantity = 1;
  return o;
}

export function buildCluster(overrides: Partial<Cluster> = {}): Cluster {
  return {
    side: 'long',
    peakPrice: 95_000,
    priceLow: 94_900,
    priceHigh: 95_100,
    notionalUsd: 50_000_000,
    share: 0.2,
    distanceBps: 490,
    major: true,
    ...overrides,
  };
}

/**
 * A cluster zone whose nearest edge is `distanceBps` (of `mark`) from `mark`: long
 * clusters below, short clusters above, `widthBps` wide.
 */
export function clusterAt(
  side: Side,
  distanceBps: number,
  overrides: Partial<Cluster> = {},
  mark = MARK,
  widthBps = 20,
): Cluster {
  const near = side === 'long' ? mark - (mark * distanceBps) / 10_000 : mark + (mark * distanceBps) / 10_000;
  const far = side === 'long' ? near - (mark * widthBps) / 10_000 : near + (mark * widthBps) / 10_000;
  const priceLow = Math.min(near, far);
  const priceHigh = Math.max(near, far);
  return buildCluster({ side, priceLow, priceHigh, peakPrice: (priceLow + priceHigh) / 2, distanceBps, ...overrides });
}

export function buildHeatmap(overrides: Partial<Heatmap> = {}): Heatmap {
  return {
    symbol: 'BTCUSDT',
    venues: ['binanceusdm'],
    asOf: NOW - 1_000,
    markPrice: MARK,
    binBps: 10,
    rangePct: 0.1,
    bins: [],
    clusters: [clusterAt('long', 500), clusterAt('short', 500)],
    crowding: { side: 'neutral', strength: 0, fundingRate: 0.0001, oiChangePct: 0 },
    risk: { score: 20, inputs: {} },
    totalLongUsd: 100_000_000,
    totalShortUsd: 100_000_000,
    openInterestUsd: 1_000_000_000,
    // Calm: below the policy's volatility reference, funding mid-history.
    volatility: { realizedBpsPerHour: 40, bars: 48 },
    funding: { rate: 0.0001, percentile: 0.5, samples: 1_000 },
    ...overrides,
  };
}

export interface BookSpec {
  mid?: number;
  /** Half the spread, in price units. */
  halfSpread?: number;
  /** Price step between levels, in price units. */
  step?: number;
  /** Levels per side. */
  levels?: number;
  /** Size of every level, base units. */
  size?: number;
  ts?: number;
}

/** A symmetric ladder book: level i at mid +/- (halfSpread + i x step), each of `size`. */
export function buildBook(spec: BookSpec = {}): OrderBook {
  const { mid = MARK, halfSpread = 0.5, step = 10, levels = 200, size = 10, ts = NOW - 1_000 } = spec;
  const bids = [];
  const asks = [];
  for (let i = 0; i < levels; i++) {
    bids.push({ price: mid - halfSpread - i * step, size });
    asks.push({ price: mid + halfSpread + i * step, size });
  }
  return { ts, bids, asks };
}

/**
 * Cascades moving the price `moves.long` bps down (longs liquidated) and `moves.short` bps
 * up past a trigger at the mark; a side left out has no cascade. A side's move widens the
 * buffer of orders it runs against (a long cascade: buys).
 */
export function cascadeMoves(moves: { long?: number; short?: number }, mark = MARK): Cascades {
  const side = (moveBps: number, direction: 1 | -1) => ({
    triggerPrice: mark,
    triggerDistanceBps: 0,
    moveBps,
    reachBps: moveBps,
    endPrice: mark * (1 + (direction * moveBps) / 10_000),
    forcedUsd: 1,
    chain: [],
    capped: false,
    depthExhausted: false,
  });
  return {
    depth: 'book',
    forcedShare: 0.05,
    depthFactor: 0.5,
    maxMoveBps: 1000,
    long: moves.long === undefined ? null : side(moves.long, -1),
    short: moves.short === undefined ? null : side(moves.short, 1),
  };
}

/** A map the service fully trusts: everything located, every venue in, a healthy model (no confidence tightening). */
export const FULL_CONFIDENCE: Confidence = { value: 1, unlocatedShare: 0, venueCoverage: 1, accuracy: 1 };

export function buildMarket(overrides: Partial<MarketView> = {}): MarketView {
  const heatmap = overrides.heatmap ?? buildHeatmap();
  return {
    heatmap,
    version: 1,
    asOf: heatmap.asOf,
    orderBook: buildBook(),
    source: 'sim',
    confidence: FULL_CONFIDENCE,
    ...overrides,
  };
}

/**
 * A full context. When `now` is overridden without a `market`, the default market is
 * built fresh (1 s old) at that instant.
 */
/** A symbol's maintenance margin: one tier at `rate` (0.4% by default, as the policy's default). */
export function buildMaintenanceMargin(rate = 0.004): MaintenanceMargin {
  return MaintenanceMarginSchema.parse([{ rate }]);
}

export function buildContext(overrides: Partial<PretradeContext> = {}): PretradeContext {
  const now = overrides.now ?? NOW;
  return {
    order: buildOrder(),
    knownSymbol: true,
    market: marketAt(now),
    tradingState: { global: 'ACTIVE', symbol: 'ACTIVE' },
    policy: buildPolicy(),
    maintenanceMargin: buildMaintenanceMargin(),
    maxHeatmapAgeMs: MAX_AGE_MS,
    now: NOW,
    ...overrides,
  };
}

/** A context whose heatmap carries exactly these clusters (and optionally a crowding). */
export function contextWithClusters(clusters: Cluster[], overrides: Partial<PretradeContext> = {}): PretradeContext {
  return buildContext({ market: marketAt(overrides.now ?? NOW, { clusters }), ...overrides });
}

/** The default market as seen at `now` (heatmap and book 1 s old). */
export function marketAt(now: number, heatmap: Partial<Heatmap> = {}, market: Partial<MarketView> = {}): MarketView {
  return buildMarket({
    heatmap: buildHeatmap({ asOf: now - 1_000, ...heatmap }),
    orderBook: buildBook({ ts: now - 1_000 }),
    ...market,
  });
}

/**
 * A double spread over [min, max] for properties: fast-check's own doubles crowd near 0
 * (1e-200 and the like), far from every rule's edge, so mutations of the rules went unseen.
 */
export const uniform = (min: number, max: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: 1_000_000 }).map((i) => min + ((max - min) * i) / 1_000_000);
