import fc from 'fast-check';
import type { Cluster, Crowding } from '../../../src/domain/heatmap/types.js';
import type { OrderBook } from '../../../src/domain/market-data.js';
import type { PretradeOrder, TradingState } from '../../../src/domain/pretrade/types.js';
import { buildBook, buildOrder, clusterAt, uniform } from './factories.js';

/**
 * Random pieces of a pre-trade context for the property tests. The ranges that decide what
 * a test reaches (how far the clusters sit, how old the book is) are the caller's: they are
 * part of what each test claims.
 */

/** A cluster on either side of `mark`, `distanceBps` away and `widthBps` wide, major or not. */
export const clusterArb = (mark: number, ranges: { distanceBps: fc.Arbitrary<number>; widthBps: fc.Arbitrary<number> }): fc.Arbitrary<Cluster> =>
  fc
    .record({
      side: fc.constantFrom('long' as const, 'short' as const),
      distanceBps: ranges.distanceBps,
      widthBps: ranges.widthBps,
      major: fc.boolean(),
      notionalUsd: uniform(1e5, 1e9),
    })
    .map(({ side, distanceBps, widthBps, major, notionalUsd }) => clusterAt(side, distanceBps, { major, notionalUsd }, mark, widthBps));

/**
 * A ladder book around `mark` (its mid `midOffsetBps` off it, 0 unless given), spread and
 * steps in bps of the mark, dated `ageMs` before `now`; absent in one case out of five.
 */
export const bookArb = (
  mark: number,
  now: number,
  ranges: { midOffsetBps?: fc.Arbitrary<number>; halfSpreadBps: fc.Arbitrary<number>; levels: fc.Arbitrary<number>; ageMs: fc.Arbitrary<number> },
): fc.Arbitrary<OrderBook | null> =>
  fc.option(
    fc
      .record({
        midOffsetBps: ranges.midOffsetBps ?? fc.constant(0),
        halfSpreadBps: ranges.halfSpreadBps,
        stepBps: uniform(0.1, 10),
        levels: ranges.levels,
        size: uniform(0.0001, 50),
        ageMs: ranges.ageMs,
      })
      .map((b) =>
        buildBook({
          mid: mark * (1 + b.midOffsetBps / 10_000),
          halfSpread: (mark * b.halfSpreadBps) / 10_000,
          step: (mark * b.stepBps) / 10_000,
          levels: b.levels,
          size: b.size,
          ts: now - b.ageMs,
        }),
      ),
    { freq: 5 },
  );

/** A trading state (global or per symbol): ACTIVE `activeWeight` times as often as REDUCING or HALTED. */
export const tradingStateArb = (activeWeight: number): fc.Arbitrary<TradingState> =>
  fc.oneof(
    { arbitrary: fc.constant<TradingState>('ACTIVE'), weight: activeWeight },
    { arbitrary: fc.constant<TradingState>('REDUCING'), weight: 1 },
    { arbitrary: fc.constant<TradingState>('HALTED'), weight: 1 },
  );

/** Crowding on either side or neither, of any strength (no funding or OI change behind it). */
export const crowdingArb: fc.Arbitrary<Crowding> = fc
  .record({
    side: fc.constantFrom('long' as const, 'short' as const, 'neutral' as const),
    strength: uniform(0, 1),
  })
  .map(({ side, strength }) => ({ side, strength, fundingRate: 0, oiChangePct: 0 }));

/** What a property test draws for its order; `limit` is the limit price's offset from the mark (null: a market order). */
export interface OrderDraw {
  side: 'buy' | 'sell';
  limit: number | null;
  leverage: number | undefined;
  byNotional: boolean;
  /** The order's value as a fraction of the policy's max notional. */
  size: number;
  reduceOnly?: boolean;
}

/** The order drawn, given by notional or by quantity at its limit price (the mark for a market order). */
export function orderFrom(g: OrderDraw, mark: number, maxNotionalUsd: number): PretradeOrder {
  const limitPrice = g.limit === null ? undefined : mark * (1 + g.limit);
  const notional = g.size * maxNotionalUsd;
  return buildOrder({
    side: g.side,
    orderType: limitPrice === undefined ? 'market' : 'limit',
    limitPrice,
    leverage: g.leverage,
    ...(g.reduceOnly === undefined ? {} : { reduceOnly: g.reduceOnly }),
    ...(g.byNotional ? { notional } : { quantity: notional / (limitPrice ?? mark) }),
  });
}
