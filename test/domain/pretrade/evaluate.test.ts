import { describe, expect, it } from 'vitest';
import { effectiveTradingState, evaluatePretrade, floorToStep, liquidationPrice } from '../../../src/domain/pretrade/evaluate.js';
import { maxQuantityWithinSlippage } from '../../../src/domain/pretrade/slippage.js';
import type { OrderBook } from '../../../src/domain/market-data.js';
import type { PretradeVerdict, ReasonCode, TradingState } from '../../../src/domain/pretrade/types.js';
import {
  MARK,
  MAX_AGE_MS,
  NOW,
  SATURDAY_1130,
  WEEKDAY_2130,
  buildBook,
  buildContext,
  buildHeatmap,
  buildMarket,
  buildOrder,
  buildPolicy,
  clusterAt,
  contextWithClusters,
  marketAt,
} from './factories.js';

const codes = (v: PretradeVerdict): ReasonCode[] => v.reasons.map((r) => r.code);
const warningCodes = (v: PretradeVerdict): ReasonCode[] => v.warnings.map((r) => r.code);

/** Checks the response invariants every verdict must satisfy. */
function expectConsistent(v: PretradeVerdict): void {
  if (v.decision === 'APPROVE') expect(v.approvedQuantity).toBe(v.requestedQuantity);
  if (v.decision === 'RESIZE') {
    expect(v.approvedQuantity).toBeGreaterThan(0);
    expect(v.approvedQuantity).toBeLessThan(v.requestedQuantity);
    expect(v.reasons.length).toBeGreaterThan(0);
  }
  if (v.decision === 'REJECT') {
    expect(v.approvedQuantity).toBe(0);
    expect(v.approvedNotional).toBe(0);
    expect(v.reasons.length).toBeGreaterThan(0);
  }
  expect(v.riskScore).toBeGreaterThanOrEqual(0);
  expect(v.riskScore).toBeLessThanOrEqual(100);
}

describe('evaluatePretrade: a calm market', () => {
  it('when a small market buy arrives in a deep book far from clusters, then it is approved as asked', () => {
    const v = evaluatePretrade(buildContext({ order: buildOrder({ quantity: 1 }) }));
    expect(v).toMatchObject({
      decision: 'APPROVE',
      requestedQuantity: 1,
      approvedQuantity: 1,
      requestedNotional: MARK,
      approvedNotional: MARK,
      reasons: [],
      warnings: [],
      timeOfDayMultiplier: 1,
      heatmapAsOf: NOW - 1_000,
      heatmapAgeMs: 1_000,
      source: 'sim',
    });
    expect(v.nearestCluster).toMatchObject({ side: 'long', major: true });
    expect(v.nearestCluster?.distanceBps).toBeCloseTo(500, 6);
    expect(v.expectedSlippageBps).toBeCloseTo(0.05, 2);
    expectConsistent(v);
  });

  it('when the order is given as a notional, then quantity converts at the valuation price (never below the mark) in whole steps', () => {
    const m = evaluatePretrade(buildContext({ order: buildOrder({ notional: 50_000 }) }));
    expect(m).toMatchObject({ decision: 'APPROVE', requestedQuantity: 0.5, requestedNotional: 50_000, approvedNotional: 50_000 });
    // A passive buy limit 1% below the mark is still worth the mark: 50,000 USD is 0.5 BTC, not 0.505.
    const l = evaluatePretrade(buildContext({ order: buildOrder({ notional: 50_000, orderType: 'limit', limitPrice: 99_000 }) }));
    expect(l).toMatchObject({ decision: 'APPROVE', requestedQuantity: 0.5, requestedNotional: 50_000 });
    expect(l.expectedSlippageBps).toBeNull();
    const odd = evaluatePretrade(buildContext({ order: buildOrder({ notional: 12_345 }) }));
    expect(odd).toMatchObject({ decision: 'APPROVE', requestedQuantity: 0.123, approvedQuantity: 0.123, approvedNotional: 12_300 });
  });
});

describe('evaluatePretrade: every reason code', () => {
  it.each<{ name: string; ctx: () => ReturnType<typeof buildContext>; decision: PretradeVerdict['decision']; code: ReasonCode }>([
    { name: 'unknown symbol', ctx: () => buildContext({ knownSymbol: false }), decision: 'REJECT', code: 'UNKNOWN_SYMBOL' },
    { name: 'no heatmap yet', ctx: () => buildContext({ market: null }), decision: 'REJECT', code: 'HEATMAP_STALE' },
    {
      name: 'symbol reducing',
      ctx: () => buildContext({ tradingState: { global: 'ACTIVE', symbol: 'REDUCING' } }),
      decision: 'REJECT',
      code: 'TRADING_REDUCING',
    },
    {
      name: 'global halt',
      ctx: () => buildContext({ tradingState: { global: 'HALTED', symbol: 'ACTIVE' } }),
      decision: 'REJECT',
      code: 'TRADING_HALTED',
    },
    { name: 'mark inside the buffer', ctx: () => contextWithClusters([clusterAt('long', 10)]), decision: 'REJECT', code: 'NO_TRADE_BUFFER' },
    {
      name: 'thin book',
      ctx: () => buildContext({ market: buildMarket({ orderBook: buildBook({ size: 0.01 }) }) }),
      decision: 'RESIZE',
      code: 'SLIPPAGE_LIMIT',
    },
    {
      name: 'major cluster 60 bps away',
      ctx: () => contextWithClusters([clusterAt('long', 60)], { order: buildOrder({ quantity: 5 }) }),
      decision: 'RESIZE',
      code: 'CLUSTER_PROXIMITY',
    },
    {
      name: 'no order book',
      ctx: () => buildContext({ market: buildMarket({ orderBook: null }) }),
      decision: 'RESIZE',
      code: 'NO_ORDER_BOOK',
    },
    {
      name: 'limit price inside a major zone',
      ctx: () =>
        contextWithClusters([clusterAt('long', 300)], {
          order: buildOrder({ orderType: 'limit', limitPrice: clusterAt('long', 300).peakPrice }),
        }),
      decision: 'REJECT',
      code: 'LIMIT_PRICE_IN_CLUSTER',
    },
    {
      name: 'limit price 15% away',
      ctx: () => buildContext({ order: buildOrder({ orderType: 'limit', limitPrice: 85_000 }) }),
      decision: 'REJECT',
      code: 'PRICE_COLLAR',
    },
    {
      name: '21:30 UTC size above the thinned cap',
      ctx: () => buildContext({ now: WEEKDAY_2130, order: buildOrder({ quantity: 8 }) }),
      decision: 'RESIZE',
      code: 'TIME_OF_DAY',
    },
    {
      name: 'buying into crowded longs',
      ctx: () =>
        buildContext({
          market: buildMarket({ heatmap: buildHeatmap({ crowding: { side: 'long', strength: 0.8, fundingRate: 0.001, oiChangePct: 0.1 } }) }),
          order: buildOrder({ quantity: 8 }),
        }),
      decision: 'RESIZE',
      code: 'CROWDED_SIDE',
    },
    {
      name: '20x long liquidating inside a long cluster',
      ctx: () =>
        contextWithClusters([buildClusterAround('long', 95_400)], { order: buildOrder({ leverage: 20 }) }),
      decision: 'REJECT',
      code: 'OWN_LIQUIDATION_IN_CLUSTER',
    },
    { name: '1.2M notional', ctx: () => buildContext({ order: buildOrder({ quantity: 12 }) }), decision: 'REJECT', code: 'MAX_NOTIONAL' },
    { name: 'dust order', ctx: () => buildContext({ order: buildOrder({ quantity: 0.0004 }) }), decision: 'REJECT', code: 'BELOW_MIN_SIZE' },
    {
      name: 'quantity and notional both given',
      ctx: () => buildContext({ order: buildOrder({ quantity: 1, notional: 100_000 }) }),
      decision: 'REJECT',
      code: 'INVALID_ORDER',
    },
  ])('when $name, then $decision with $code', ({ ctx, decision, code }) => {
    const v = evaluatePretrade(ctx());
    expect(v.decision).toBe(decision);
    expect(codes(v)).toContain(code);
    expectConsistent(v);
    for (const r of v.reasons) expect(r.message.length).toBeGreaterThan(10);
  });

  it('when data is stale for a reduce-only order, then it is approved with REDUCE_ONLY_STALE_DATA', () => {
    const v = evaluatePretrade(buildContext({ market: null, order: buildOrder({ reduceOnly: true, quantity: 3 }) }));
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 3, reasons: [] });
    expect(warningCodes(v)).toEqual(['REDUCE_ONLY_STALE_DATA', 'REDUCE_ONLY_UNVERIFIED']);
  });
});

function buildClusterAround(side: 'long' | 'short', price: number) {
  return clusterAt(side, 1, { priceLow: price - 100, priceHigh: price + 100, peakPrice: price });
}

describe('evaluatePretrade: freshness (fail closed)', () => {
  const aged = (ageMs: number, extra: Parameters<typeof buildContext>[0] = {}) =>
    buildContext({ market: buildMarket({ asOf: NOW - ageMs, heatmap: buildHeatmap({ asOf: NOW - ageMs }) }), ...extra });

  it.each([
    { age: MAX_AGE_MS - 1, decision: 'APPROVE' },
    { age: MAX_AGE_MS, decision: 'APPROVE' },
    { age: MAX_AGE_MS + 1, decision: 'REJECT' },
  ])('when the heatmap is $age ms old (max 60000), then a new order gets $decision', ({ age, decision }) => {
    const v = evaluatePretrade(aged(age));
    expect(v.decision).toBe(decision);
    expect(v.heatmapAgeMs).toBe(age);
    if (decision === 'REJECT') expect(v.reasons[0]).toMatchObject({ code: 'HEATMAP_STALE', limit: MAX_AGE_MS, observed: age });
  });

  it.each([
    { skew: 2_000, decision: 'APPROVE' },
    { skew: 2_001, decision: 'REJECT' },
    { skew: 5_000, decision: 'REJECT' },
    { skew: MAX_AGE_MS + 1, decision: 'REJECT' },
  ])('when the heatmap is dated $skew ms in the future (clock-skew tolerance 2000), then $decision', ({ skew, decision }) => {
    const v = evaluatePretrade(aged(-skew));
    expect(v.decision).toBe(decision);
    if (decision === 'REJECT') expect(v.reasons[0]).toMatchObject({ code: 'HEATMAP_STALE', observed: -skew });
  });

  it('when the policy widens the clock-skew tolerance, then data that far ahead is fresh', () => {
    expect(evaluatePretrade(aged(-5_000, { policy: buildPolicy({ clockSkewToleranceMs: 5_000 }) })).decision).toBe('APPROVE');
  });

  it('when the symbol policy tightens the max age, then the tighter limit applies', () => {
    const v = evaluatePretrade(aged(20_000, { policy: buildPolicy({ maxHeatmapAgeMs: 10_000 }) }));
    expect(v.reasons[0]).toMatchObject({ code: 'HEATMAP_STALE', limit: 10_000 });
  });

  it('when the policy max age is looser than the service limit, then the service limit still applies', () => {
    const v = evaluatePretrade(aged(MAX_AGE_MS + 1, { policy: buildPolicy({ maxHeatmapAgeMs: 10 * MAX_AGE_MS }) }));
    expect(v.decision).toBe('REJECT');
  });

  it('when the mark price is not a positive number, then a new order is rejected as stale data', () => {
    const v = evaluatePretrade(buildContext({ market: buildMarket({ heatmap: buildHeatmap({ markPrice: Number.NaN }) }) }));
    expect(codes(v)).toEqual(['HEATMAP_STALE']);
    expect(v.riskScore).toBe(100);
  });

  it('when a stale reduce-only order is in notional with no heatmap at all, then it passes with quantity 0 and says why', () => {
    const v = evaluatePretrade(buildContext({ market: null, order: buildOrder({ reduceOnly: true, notional: 20_000 }) }));
    expect(v).toMatchObject({ decision: 'APPROVE', requestedQuantity: 0, approvedQuantity: 0, approvedNotional: 20_000 });
    expect(v.warnings[0]?.message).toMatch(/no price/);
  });

  it.each([
    { label: '1 s old', ts: NOW - 1_000, used: true },
    { label: 'exactly the max age old', ts: NOW - MAX_AGE_MS, used: true },
    { label: 'dated 2 s in the future (the clock-skew tolerance)', ts: NOW + 2_000, used: true },
    { label: 'dated 2.001 s in the future', ts: NOW + 2_001, used: false },
    { label: 'dated 5 s in the future', ts: NOW + 5_000, used: false },
    { label: 'dated exactly the max age in the future', ts: NOW + MAX_AGE_MS, used: false },
    { label: 'dated just over the max age in the future', ts: NOW + MAX_AGE_MS + 1, used: false },
    { label: 'dated a year in the future', ts: NOW + 365 * 86_400_000, used: false },
    { label: 'older than the max age', ts: NOW - MAX_AGE_MS - 1, used: false },
  ])('when the order book is $label, then used=$used', ({ ts, used }) => {
    const market = buildMarket({ orderBook: buildBook({ ts }) });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 5 }) }));
    expect(v.expectedSlippageBps === null).toBe(!used);
    if (used) {
      expect(v.decision).toBe('APPROVE');
    } else {
      // No usable book: the fallback cap (25,000 USD = 0.25 BTC) binds and says why.
      expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25 });
      expect(codes(v)).toEqual(['NO_ORDER_BOOK']);
      expect(v.reasons[0]?.message).toMatch(ts > NOW ? /dated in the future/ : /too old/);
    }
  });
});

describe('evaluatePretrade: trading state', () => {
  const states: TradingState[] = ['ACTIVE', 'REDUCING', 'HALTED'];
  const rank = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
  const cases = states.flatMap((global) => states.flatMap((symbol) => [false, true].map((reduceOnly) => ({ global, symbol, reduceOnly }))));

  it.each(cases)('when global=$global, symbol=$symbol, reduceOnly=$reduceOnly, then the stricter state decides', ({ global, symbol, reduceOnly }) => {
    const v = evaluatePretrade(buildContext({ tradingState: { global, symbol }, order: buildOrder({ reduceOnly }) }));
    const effective = rank[global] >= rank[symbol] ? global : symbol;
    if (effective === 'ACTIVE' || (reduceOnly && effective === 'REDUCING')) {
      expect(v.decision).toBe('APPROVE');
    } else {
      // HALTED stops everything, reduce-only included; REDUCING lets only reduce-only through.
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual([effective === 'HALTED' ? 'TRADING_HALTED' : 'TRADING_REDUCING']);
      expect(v.reasons[0]?.limit).toBe(effective);
    }
  });
});

describe('evaluatePretrade: no-trade buffer (distance <= buffer is inside)', () => {
  it.each([
    { where: 'inside', d: 10, rejected: true },
    { where: 'at the zone (mark inside it)', d: 0, rejected: true },
    { where: 'on the boundary', d: 30, rejected: true },
    { where: 'just outside', d: 30.01, rejected: false },
  ])('when the mark is $where ($d bps) of a major long cluster, then rejected=$rejected', ({ d, rejected }) => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', d)], { order: buildOrder({ quantity: 0.1 }) }));
    expect(codes(v).includes('NO_TRADE_BUFFER')).toBe(rejected);
    expect(v.decision === 'REJECT').toBe(rejected);
  });

  it.each([
    { side: 'short' as const, orderSide: 'buy' as const },
    { side: 'long' as const, orderSide: 'sell' as const },
  ])('when a $side cluster is inside the buffer of a $orderSide, then it still rejects (clusterSides any)', ({ side, orderSide }) => {
    const v = evaluatePretrade(contextWithClusters([clusterAt(side, 10)], { order: buildOrder({ side: orderSide, quantity: 0.1 }) }));
    expect(codes(v)).toContain('NO_TRADE_BUFFER');
  });

  it('when clusterSides is adverse, then only clusters whose cascade moves against the order count', () => {
    const policy = buildPolicy({ clusterSides: 'adverse' });
    const shortAbove = [clusterAt('short', 10)];
    expect(evaluatePretrade(contextWithClusters(shortAbove, { policy, order: buildOrder({ side: 'buy', quantity: 0.1 }) })).decision).toBe('APPROVE');
    expect(codes(evaluatePretrade(contextWithClusters(shortAbove, { policy, order: buildOrder({ side: 'sell', quantity: 0.1 }) })))).toContain(
      'NO_TRADE_BUFFER',
    );
  });

  it('when the cluster is not major, then no buffer applies but it is still reported as nearest', () => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 5, { major: false })], { order: buildOrder({ quantity: 0.1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(v.nearestCluster).toMatchObject({ major: false });
    expect(v.nearestCluster?.distanceBps).toBeCloseTo(5, 6);
  });

  it.each([
    { hour: '11:30', now: NOW, rejected: false },
    { hour: '21:30', now: WEEKDAY_2130, rejected: true },
  ])('when a cluster is 40 bps away at $hour UTC, then rejected=$rejected (buffer widens as liquidity thins)', ({ now, rejected }) => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 40)], { now, order: buildOrder({ quantity: 0.1 }) }));
    expect(v.decision === 'REJECT').toBe(rejected);
    if (rejected) {
      expect(codes(v)).toEqual(['NO_TRADE_BUFFER', 'TIME_OF_DAY']);
      expect(v.reasons[0]?.limit).toBeCloseTo(30 / 0.61, 2);
    }
  });

  it('when a limit order is placed near a cluster while the mark is far, then the limit price is what counts', () => {
    const c = clusterAt('long', 300);
    const near = evaluatePretrade(contextWithClusters([c], { order: buildOrder({ orderType: 'limit', limitPrice: c.priceHigh + 100, quantity: 0.1 }) }));
    expect(codes(near)).toContain('NO_TRADE_BUFFER');
    const far = evaluatePretrade(contextWithClusters([c], { order: buildOrder({ orderType: 'limit', limitPrice: MARK, quantity: 0.1 }) }));
    expect(far.decision).toBe('APPROVE');
  });
});

describe('evaluatePretrade: cluster proximity sizing', () => {
  it.each([
    // factor = 0.25 + 0.75 x (d - 30) / 150, cap = 1M x factor at mark 100k.
    { d: 60, cap: 4 },
    { d: 105, cap: 6.25 },
    { d: 155, cap: 8.75 },
  ])('when a major cluster is $d bps away, then size shrinks smoothly to $cap BTC', ({ d, cap }) => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', d)], { order: buildOrder({ quantity: 9.5 }) }));
    expect(v.decision).toBe('RESIZE');
    expect(v.approvedQuantity).toBeCloseTo(cap, 9);
    expect(codes(v)).toEqual(['CLUSTER_PROXIMITY']);
  });

  it('when the cluster is beyond buffer + proximity range, then full size is allowed', () => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 181)], { order: buildOrder({ quantity: 9.5 }) }));
    expect(v.decision).toBe('APPROVE');
  });

  it('when the order fits under the proximity cap, then it passes with a CLUSTER_PROXIMITY warning', () => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 60)], { order: buildOrder({ quantity: 1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).toEqual(['CLUSTER_PROXIMITY']);
  });
});

describe('evaluatePretrade: slippage budget', () => {
  // Thin book: 0.2 BTC every 1 bps; depth scale is 1 at 11:30 with clusters 500 bps away.
  const book = buildBook({ size: 0.2, levels: 400 });
  const exactCap = maxQuantityWithinSlippage(book, 'buy', 15, 1);
  const ctx = (quantity: number) => buildContext({ market: buildMarket({ orderBook: book }), order: buildOrder({ quantity }) });

  it.each([
    { label: 'well below', q: 1, decision: 'APPROVE' },
    { label: 'just below the rounded cap', q: floorToStep(exactCap, 0.001) - 0.001, decision: 'APPROVE' },
    { label: 'exactly the rounded cap', q: floorToStep(exactCap, 0.001), decision: 'APPROVE' },
    { label: 'just above', q: floorToStep(exactCap, 0.001) + 0.001, decision: 'RESIZE' },
    { label: 'far above', q: 9, decision: 'RESIZE' },
  ])('when the size is $label the budget ($q BTC), then $decision', ({ q, decision }) => {
    const v = evaluatePretrade(ctx(q));
    expect(v.decision).toBe(decision);
    expect(v.expectedSlippageBps).toBeLessThanOrEqual(15 + 0.01);
    if (decision === 'RESIZE') {
      expect(v.approvedQuantity).toBe(floorToStep(exactCap, 0.001));
      expect(v.reasons[0]).toMatchObject({ code: 'SLIPPAGE_LIMIT', limit: 15 });
      expect(Number(v.reasons[0]?.observed)).toBeGreaterThanOrEqual(15);
    }
  });

  it('when the mark nears a cluster, then depth is thinned and the slippage cap tightens', () => {
    // Proximity sizing off, so only the thinned book binds: 80 bps -> depth x (0.5 + 0.5 x 0.8).
    const farCap = evaluatePretrade(ctx(9)).approvedQuantity;
    const near = evaluatePretrade(
      buildContext({
        policy: buildPolicy({ proximityMinFactor: 1 }),
        market: buildMarket({ orderBook: book, heatmap: buildHeatmap({ clusters: [clusterAt('short', 80)] }) }),
        order: buildOrder({ quantity: 9 }),
      }),
    );
    expect(near.approvedQuantity).toBe(floorToStep(maxQuantityWithinSlippage(book, 'buy', 15, 0.9), 0.001));
    expect(near.approvedQuantity).toBeLessThan(farCap);
    expect(codes(near)).toEqual(['SLIPPAGE_LIMIT']);
  });

  it('when it is 21:30 UTC, then the same book allows less (depth x 0.61)', () => {
    const day = evaluatePretrade(ctx(9)).approvedQuantity;
    const market = marketAt(WEEKDAY_2130, {}, { orderBook: { ...book, ts: WEEKDAY_2130 } });
    const night = evaluatePretrade(buildContext({ now: WEEKDAY_2130, market, order: buildOrder({ quantity: 9 }) }));
    expect(night.approvedQuantity).toBeCloseTo(floorToStep(maxQuantityWithinSlippage(book, 'buy', 15, 0.61), 0.001), 9);
    expect(night.approvedQuantity).toBeLessThan(day);
  });

  it('when there is no order book, then a market order is capped at the fallback notional, never unbounded', () => {
    const v = evaluatePretrade(buildContext({ market: buildMarket({ orderBook: null }), order: buildOrder({ quantity: 5 }) }));
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25, approvedNotional: 25_000, expectedSlippageBps: null });
    expect(codes(v)).toEqual(['NO_ORDER_BOOK']);
  });

  it('when the order book has no asks, then a buy gets the fallback cap', () => {
    const v = evaluatePretrade(
      buildContext({ market: buildMarket({ orderBook: { ts: NOW, bids: buildBook().bids, asks: [] } }), order: buildOrder({ quantity: 0.1 }) }),
    );
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).toEqual(['NO_ORDER_BOOK']);
  });
});

describe('evaluatePretrade: time of day on size', () => {
  it.each([
    { label: '11:30 UTC weekday', now: NOW, approved: 9 },
    { label: '21:30 UTC weekday', now: WEEKDAY_2130, approved: 6.1 },
    { label: '11:30 UTC Saturday', now: SATURDAY_1130, approved: 8 },
  ])('when 9 BTC is asked at $label, then $approved BTC is approved', ({ now, approved }) => {
    const v = evaluatePretrade(buildContext({ now, order: buildOrder({ quantity: 9 }) }));
    expect(v.approvedQuantity).toBeCloseTo(approved, 9);
    if (approved < 9) expect(codes(v)).toEqual(['TIME_OF_DAY']);
  });
});

describe('evaluatePretrade: limit orders', () => {
  it.each([
    { label: 'exactly on the collar (10%)', limitPrice: 90_000, collar: false },
    { label: 'just beyond the collar', limitPrice: 89_990, collar: true },
    { label: 'far above the mark', limitPrice: 111_000, collar: true },
  ])('when the limit price is $label, then collar=$collar', ({ limitPrice, collar }) => {
    const v = evaluatePretrade(contextWithClusters([], { order: buildOrder({ orderType: 'limit', limitPrice, quantity: 0.1 }) }));
    expect(codes(v).includes('PRICE_COLLAR')).toBe(collar);
  });
});

describe('evaluatePretrade: crowding', () => {
  const crowdedLongs = buildMarket({ heatmap: buildHeatmap({ crowding: { side: 'long', strength: 0.8, fundingRate: 0.001, oiChangePct: 0.1 } }) });

  it('when buying into crowded longs, then the size cap is x(1 - 0.5 x 0.8)', () => {
    const v = evaluatePretrade(buildContext({ market: crowdedLongs, order: buildOrder({ quantity: 8 }) }));
    expect(v.approvedQuantity).toBeCloseTo(6, 9);
  });

  it('when selling against crowded longs, then no crowding limit applies', () => {
    const v = evaluatePretrade(buildContext({ market: crowdedLongs, order: buildOrder({ side: 'sell', quantity: 8 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).not.toContain('CROWDED_SIDE');
  });

  it('when a small buy fits under the crowded cap, then it passes with a CROWDED_SIDE warning', () => {
    const v = evaluatePretrade(buildContext({ market: crowdedLongs, order: buildOrder({ quantity: 1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).toEqual(['CROWDED_SIDE']);
  });

  it('when crowding is below the minimum strength, then it is ignored', () => {
    const weak = buildMarket({ heatmap: buildHeatmap({ crowding: { side: 'long', strength: 0.2, fundingRate: 0, oiChangePct: 0 } }) });
    expect(evaluatePretrade(buildContext({ market: weak, order: buildOrder({ quantity: 8 }) })).decision).toBe('APPROVE');
  });
});

describe('evaluatePretrade: own liquidation', () => {
  it('computes isolated-margin liquidation prices for both sides', () => {
    expect(liquidationPrice('buy', 100_000, 20, 0.004)).toBeCloseTo(95_400, 6);
    expect(liquidationPrice('sell', 100_000, 20, 0.004)).toBeCloseTo(104_600, 6);
  });

  it.each([
    { label: '20x long, long cluster at its liquidation', side: 'buy' as const, lev: 20, cluster: buildClusterAround('long', 95_400), rejected: true },
    { label: '10x long, same cluster (liq 90,400)', side: 'buy' as const, lev: 10, cluster: buildClusterAround('long', 95_400), rejected: false },
    { label: '20x short, short cluster at its liquidation', side: 'sell' as const, lev: 20, cluster: buildClusterAround('short', 104_600), rejected: true },
    { label: '20x long, short cluster at the mirror price', side: 'buy' as const, lev: 20, cluster: buildClusterAround('short', 104_600), rejected: false },
    { label: 'no leverage given', side: 'buy' as const, lev: undefined, cluster: buildClusterAround('long', 95_400), rejected: false },
  ])('when $label, then rejected=$rejected', ({ side, lev, cluster, rejected }) => {
    const v = evaluatePretrade(contextWithClusters([cluster], { order: buildOrder({ side, leverage: lev, quantity: 0.1 }) }));
    expect(codes(v).includes('OWN_LIQUIDATION_IN_CLUSTER')).toBe(rejected);
    if (rejected) expect(v.reasons[0]?.message).toMatch(/Leverage of at most/);
  });
});

describe('evaluatePretrade: hard limits', () => {
  it.each([
    { q: 10, decision: 'APPROVE' },
    { q: 10.001, decision: 'REJECT' },
  ])('when $q BTC (max notional 1M at mark 100k), then $decision', ({ q, decision }) => {
    expect(evaluatePretrade(buildContext({ order: buildOrder({ quantity: q }) })).decision).toBe(decision);
  });

  it('when the policy resizes above max notional, then the order is cut to the max', () => {
    const v = evaluatePretrade(buildContext({ policy: buildPolicy({ maxNotionalAction: 'resize' }), order: buildOrder({ quantity: 15 }) }));
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 10 });
    expect(codes(v)).toEqual(['MAX_NOTIONAL']);
  });

  it('when every cap is below the minimum size, then the order is rejected BELOW_MIN_SIZE at any size', () => {
    const policy = buildPolicy({ noBookMaxNotionalUsd: 4 });
    for (const q of [0.01, 1, 5]) {
      const v = evaluatePretrade(buildContext({ policy, market: buildMarket({ orderBook: null }), order: buildOrder({ quantity: q }) }));
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual(['NO_ORDER_BOOK', 'BELOW_MIN_SIZE']);
    }
  });

  it('when the notional is below the minimum notional, then BELOW_MIN_SIZE names the notional limit', () => {
    const v = evaluatePretrade(buildContext({ policy: buildPolicy({ minNotionalUsd: 500 }), order: buildOrder({ quantity: 0.004 }) }));
    // One unit for BELOW_MIN_SIZE: quantities. 500 USD at 100,000 is 0.005 BTC.
    expect(v.reasons[0]).toMatchObject({ code: 'BELOW_MIN_SIZE', limit: 0.005, observed: 0.004 });
    expect(v.reasons[0]?.message).toMatch(/minimum notional 500 USD/);
  });

  it('when a resize is rounded, then it is rounded down to the quantity step', () => {
    const market = marketAt(WEEKDAY_2130, {}, { orderBook: null });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 1 }), now: WEEKDAY_2130 }));
    // 25,000 x 0.61 / 100,000 = 0.1525 -> 0.152.
    expect(v.approvedQuantity).toBe(0.152);
  });
});

describe('evaluatePretrade: reduce-only', () => {
  it.each<{ label: string; ctx: () => ReturnType<typeof buildContext> }>([
    { label: 'reducing', ctx: () => buildContext({ tradingState: { global: 'REDUCING', symbol: 'ACTIVE' } }) },
    { label: 'inside the buffer', ctx: () => contextWithClusters([clusterAt('long', 0)]) },
    { label: 'above max notional', ctx: () => buildContext({ order: buildOrder({ quantity: 50 }) }) },
    { label: 'below min notional (one step)', ctx: () => buildContext({ order: buildOrder({ quantity: 0.001 }), policy: buildPolicy({ minNotionalUsd: 500 }) }) },
    { label: 'with no order book', ctx: () => buildContext({ market: buildMarket({ orderBook: null }), order: buildOrder({ quantity: 5 }) }) },
  ])('when $label, then a reduce-only order is approved in full, saying it rests on the position', ({ ctx }) => {
    const c = ctx();
    const v = evaluatePretrade({ ...c, order: { ...c.order, reduceOnly: true } });
    expect(v.decision).toBe('APPROVE');
    expect(v.approvedQuantity).toBe(v.requestedQuantity);
    expect(v.reasons).toEqual([]);
    expect(warningCodes(v)).toContain('REDUCE_ONLY_UNVERIFIED');
  });

  it.each<{ label: string; ctx: () => ReturnType<typeof buildContext>; code: ReasonCode }>([
    { label: 'halted', ctx: () => buildContext({ tradingState: { global: 'HALTED', symbol: 'ACTIVE' } }), code: 'TRADING_HALTED' },
    { label: 'with a collared limit price', ctx: () => buildContext({ order: buildOrder({ orderType: 'limit', limitPrice: 50_000 }) }), code: 'PRICE_COLLAR' },
    { label: 'below one quantity step', ctx: () => buildContext({ order: buildOrder({ quantity: 0.0001 }) }), code: 'QUANTITY_STEP' },
  ])('when $label, then even a reduce-only order is rejected $code', ({ ctx, code }) => {
    const c = ctx();
    const v = evaluatePretrade({ ...c, order: { ...c.order, reduceOnly: true } });
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual([code]);
  });

  it('when the symbol is unknown, then even a reduce-only order is rejected', () => {
    const v = evaluatePretrade(buildContext({ knownSymbol: false, order: buildOrder({ reduceOnly: true }) }));
    expect(codes(v)).toEqual(['UNKNOWN_SYMBOL']);
  });

  it('when a reduce-only order is malformed, then it is rejected INVALID_ORDER', () => {
    const v = evaluatePretrade(buildContext({ order: buildOrder({ reduceOnly: true, quantity: -1 }) }));
    expect(codes(v)).toEqual(['INVALID_ORDER']);
  });
});

describe('evaluatePretrade: risk score', () => {
  it('when the mark nears a major cluster, then the risk score rises', () => {
    const far = evaluatePretrade(contextWithClusters([clusterAt('long', 400)], { order: buildOrder({ quantity: 0.1 }) }));
    const near = evaluatePretrade(contextWithClusters([clusterAt('long', 40)], { order: buildOrder({ quantity: 0.1 }) }));
    expect(near.riskScore).toBeGreaterThan(far.riskScore);
  });

  it('when data is missing, then the risk score is 100', () => {
    expect(evaluatePretrade(buildContext({ market: null })).riskScore).toBe(100);
  });
});

/** A heatmap as it comes back from Redis: JSON, so NaN and Infinity become null. */
function viaJson<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

describe('evaluatePretrade: marketable limit orders execute like market orders', () => {
  const limit = (limitPrice: number, extra: Partial<Parameters<typeof buildOrder>[0]> = {}) =>
    buildOrder({ orderType: 'limit', limitPrice, ...extra });

  it('when a buy limit 9.9% above the mark meets no order book, then it gets the no-book cap like a market order', () => {
    const market = buildMarket({ orderBook: null });
    const lim = evaluatePretrade(buildContext({ market, order: limit(109_900, { quantity: 9 }) }));
    const mkt = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 9 }) }));
    expect(lim.decision).toBe('RESIZE');
    expect(codes(lim)).toEqual(['NO_ORDER_BOOK']);
    expect(lim.approvedQuantity).toBeLessThanOrEqual(mkt.approvedQuantity);
    expect(lim.approvedNotional).toBeLessThanOrEqual(25_000);
    expectConsistent(lim);
  });

  it('when a buy limit above the best ask meets a thin book, then it is walked and capped at the slippage budget', () => {
    const book = buildBook({ size: 0.2, levels: 400 });
    const v = evaluatePretrade(buildContext({ market: buildMarket({ orderBook: book }), order: limit(101_000, { quantity: 9 }) }));
    expect(v.decision).toBe('RESIZE');
    expect(codes(v)).toEqual(['SLIPPAGE_LIMIT']);
    expect(v.approvedQuantity).toBe(floorToStep(maxQuantityWithinSlippage(book, 'buy', 15, 1), 0.001));
    expect(v.expectedSlippageBps).toBeLessThanOrEqual(15 + 0.01);
  });

  it('when a sell limit is at or below the best bid, then it is walked too; a passive limit is not', () => {
    const at = evaluatePretrade(buildContext({ order: limit(MARK - 0.5, { side: 'sell', quantity: 1 }) }));
    expect(at.expectedSlippageBps).not.toBeNull();
    const passive = evaluatePretrade(buildContext({ order: limit(MARK, { side: 'sell', quantity: 1 }) }));
    expect(passive.expectedSlippageBps).toBeNull();
  });

  it('when a buy limit 200 bps above the mark has a major long cluster 10 bps below the mark, then NO_TRADE_BUFFER as for the market order', () => {
    const clusters = [clusterAt('long', 10)];
    const lim = evaluatePretrade(contextWithClusters(clusters, { order: limit(102_000, { quantity: 0.1 }) }));
    const mkt = evaluatePretrade(contextWithClusters(clusters, { order: buildOrder({ quantity: 0.1 }) }));
    expect(mkt.decision).toBe('REJECT');
    expect(lim.decision).toBe('REJECT');
    expect(codes(lim)).toContain('NO_TRADE_BUFFER');
    expect(lim.reasons[0]?.observed).toBeCloseTo(10, 6);
  });

  it('when a sell limit below the mark would exceed max notional at the mark, then MAX_NOTIONAL (valued at the mark, not the limit)', () => {
    // 10.5 x 95,000 = 997,500 at the limit, but it fills near the mark: 1,050,000.
    const v = evaluatePretrade(buildContext({ order: limit(95_000, { side: 'sell', quantity: 10.5 }) }));
    expect(codes(v)).toContain('MAX_NOTIONAL');
    expect(v.decision).toBe('REJECT');
  });

  it('when a 20x buy limit above the mark could fill at the mark with its liquidation in a long cluster, then OWN_LIQUIDATION_IN_CLUSTER', () => {
    // Entry at the limit 102,000 puts the liquidation at 97,308; at the mark, 95,400: inside the zone.
    const zone = clusterAt('long', 1, { priceLow: 95_300, priceHigh: 95_500, peakPrice: 95_400 });
    const v = evaluatePretrade(contextWithClusters([zone], { order: limit(102_000, { leverage: 20, quantity: 0.1 }) }));
    expect(codes(v)).toContain('OWN_LIQUIDATION_IN_CLUSTER');
    expect(v.reasons.find((r) => r.code === 'OWN_LIQUIDATION_IN_CLUSTER')?.message).toMatch(/Leverage of at most/);
  });
});

describe('evaluatePretrade: only a sane order book is used', () => {
  const withBook = (orderBook: OrderBook | null, quantity = 9) =>
    evaluatePretrade(buildContext({ market: buildMarket({ orderBook }), order: buildOrder({ quantity }) }));

  it('when the book is crossed (bid 110k, ask 90k), then it counts as no book and slippage is never negative', () => {
    const crossed = { ts: NOW - 1_000, bids: [{ price: 110_000, size: 100 }], asks: [{ price: 90_000, size: 100 }] };
    const v = withBook(crossed);
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25, expectedSlippageBps: null });
    expect(codes(v)).toEqual(['NO_ORDER_BOOK']);
    expect(v.reasons[0]?.message).toMatch(/crossed/);
  });

  it.each([
    { label: '20% above the mark', mid: 120_000, used: false },
    { label: '101 bps above the mark', mid: 101_010, used: false },
    { label: '99 bps below the mark', mid: 99_010, used: true },
  ])('when the book mid is $label (max 100 bps), then used=$used', ({ mid, used }) => {
    const v = withBook(buildBook({ mid }), 0.1);
    expect(v.expectedSlippageBps === null).toBe(!used);
    expect(warningCodes(v).includes('NO_ORDER_BOOK')).toBe(!used);
  });

  it('when the policy allows a wider deviation, then a book that far from the mark is used', () => {
    const v = evaluatePretrade(
      buildContext({ policy: buildPolicy({ maxBookMarkDeviationBps: 300 }), market: buildMarket({ orderBook: buildBook({ mid: 102_000 }) }), order: buildOrder({ quantity: 0.1 }) }),
    );
    expect(v.expectedSlippageBps).not.toBeNull();
  });

  it.each([
    { label: 'a NaN price (null after JSON)', patch: { price: Number.NaN, size: 1 } },
    { label: 'a zero size', patch: { price: MARK + 100, size: 0 } },
    { label: 'a negative size', patch: { price: MARK + 100, size: -5 } },
  ])('when one ask level has $label, then the book is not used', ({ patch }) => {
    const book = buildBook();
    book.asks.splice(3, 0, patch);
    const v = withBook(viaJson(book), 0.1);
    expect(v.expectedSlippageBps).toBeNull();
    expect(warningCodes(v)).toContain('NO_ORDER_BOOK');
  });

  it('when the bid side is empty, then even a buy gets the fallback cap', () => {
    const v = withBook({ ts: NOW - 1_000, bids: [], asks: buildBook().asks }, 0.1);
    expect(warningCodes(v)).toContain('NO_ORDER_BOOK');
  });
});

describe('evaluatePretrade: limit prices in cluster zones (rules 3 and 5)', () => {
  // Passive buy limits below the mark 100,000. Major long zone 96,800-97,000 (300 bps
  // below), non-major long zone 97,800-98,000 (200 bps below): each test uses one of them.
  const major = clusterAt('long', 300);
  const minor = clusterAt('long', 200, { major: false, notionalUsd: 5_000_000 });
  const actions = ['reject', 'resize'] as const;
  const policyFor = (limitInClusterAction: (typeof actions)[number], extra: Parameters<typeof buildPolicy>[0] = {}) =>
    buildPolicy({ limitInClusterAction, limitInClusterSizeFactor: 0.25, ...extra });
  const limitAt = (
    clusters: ReturnType<typeof clusterAt>[],
    action: (typeof actions)[number],
    limitPrice: number,
    quantity = 1,
    extra: Partial<Parameters<typeof buildOrder>[0]> = {},
  ) =>
    evaluatePretrade(
      contextWithClusters(clusters, { policy: policyFor(action), order: buildOrder({ orderType: 'limit', limitPrice, quantity, ...extra }) }),
    );

  it.each(actions)('when a passive limit lies inside a MAJOR zone (%s), then REJECT LIMIT_PRICE_IN_CLUSTER', (action) => {
    for (const p of [major.peakPrice, major.priceLow, major.priceHigh]) {
      const v = limitAt([major], action, p, 0.1);
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
      expect(v.reasons[0]?.message).toMatch(/inside the major long cluster/);
      expectConsistent(v);
    }
  });

  it.each(actions)('when a passive limit lies outside a MAJOR zone but within its buffer (%s), then REJECT NO_TRADE_BUFFER', (action) => {
    for (const p of [major.priceHigh + 1, major.priceHigh + 100, major.priceHigh + 300, major.priceLow - 300]) {
      const v = limitAt([major], action, p, 0.1);
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual(['NO_TRADE_BUFFER']);
      expectConsistent(v);
    }
  });

  it.each(actions)('when a passive limit lies just beyond a MAJOR buffer (%s), then no cluster rule rejects it', (action) => {
    const v = limitAt([major], action, major.priceHigh + 301, 0.1);
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).toEqual(['CLUSTER_PROXIMITY']);
  });

  it('when a passive limit lies inside a NON-major zone with reject, then REJECT LIMIT_PRICE_IN_CLUSTER', () => {
    const v = limitAt([minor], 'reject', minor.peakPrice);
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
    expect(v.reasons[0]).toMatchObject({ limit: `${minor.priceLow}-${minor.priceHigh}`, observed: minor.peakPrice });
    expect(v.reasons[0]?.message).toMatch(/not major/);
    expectConsistent(v);
  });

  it.each([
    { where: 'at its peak', price: minor.peakPrice },
    { where: 'on its upper edge', price: minor.priceHigh },
    { where: 'on its lower edge', price: minor.priceLow },
  ])('when a passive limit lies inside a NON-major zone ($where) with resize, then RESIZE to the factor x requested', ({ price }) => {
    const v = limitAt([minor], 'resize', price, 1);
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25 });
    expect(v.approvedNotional).toBeCloseTo(0.25 * MARK, 6); // valued at the mark: the limit is below it
    expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
    expect(v.reasons[0]?.message).toMatch(/not major.*0\.25 of the requested size/);
    expectConsistent(v);
  });

  it.each(actions)('when a passive limit lies just outside a NON-major zone (%s), then no LIMIT_PRICE_IN_CLUSTER', (action) => {
    for (const p of [minor.priceHigh + 0.01, minor.priceLow - 0.01]) {
      const v = limitAt([minor], action, p);
      expect(v.decision).toBe('APPROVE');
      expect(codes(v)).toEqual([]);
      expect(warningCodes(v)).not.toContain('LIMIT_PRICE_IN_CLUSTER');
    }
  });

  it('when the non-major resize cap meets a tighter cap, then the smaller one wins and both are named', () => {
    // 21:30 UTC: the time-of-day cap is 610,000 USD = 6.22 BTC at 98,000; 0.25 x 30 = 7.5 BTC.
    const ctx = contextWithClusters([minor], {
      now: WEEKDAY_2130,
      policy: policyFor('resize'),
      order: buildOrder({ orderType: 'limit', limitPrice: minor.priceHigh, quantity: 30 }),
    });
    const v = evaluatePretrade(ctx);
    expect(v.decision).toBe('REJECT'); // 30 BTC is far above max notional (reject by default)
    const resized = evaluatePretrade({ ...ctx, policy: { ...ctx.policy, maxNotionalAction: 'resize' } });
    expect(resized.decision).toBe('RESIZE');
    expect(resized.approvedQuantity).toBe(floorToStep((1_000_000 * 0.61) / MARK, 0.001));
    expect(codes(resized)).toEqual(expect.arrayContaining(['LIMIT_PRICE_IN_CLUSTER', 'TIME_OF_DAY', 'MAX_NOTIONAL']));
  });

  it('when the non-major resize factor is 1, then the order passes in full with a LIMIT_PRICE_IN_CLUSTER warning', () => {
    const v = evaluatePretrade(
      contextWithClusters([minor], {
        policy: policyFor('resize', { limitInClusterSizeFactor: 1 }),
        order: buildOrder({ orderType: 'limit', limitPrice: minor.peakPrice, quantity: 0.123 }),
      }),
    );
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 0.123, reasons: [] });
    expect(warningCodes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
  });

  it('when more is asked inside a NON-major zone with resize, then more is approved (factor x requested is monotone)', () => {
    const approved = [0.1, 0.5, 1, 2, 4].map((q) => limitAt([minor], 'resize', minor.peakPrice, q).approvedQuantity);
    expect(approved).toEqual([0.025, 0.125, 0.25, 0.5, 1]);
  });

  it('when clusterSides is adverse, then a NON-major zone on the other side does not count', () => {
    // A passive sell limit above the mark inside a non-major LONG zone (longs would not cascade against a sell).
    const above = clusterAt('short', 200, { side: 'long', major: false });
    const order = buildOrder({ orderType: 'limit', side: 'sell', limitPrice: above.peakPrice, quantity: 1 });
    const adverse = evaluatePretrade(contextWithClusters([above], { policy: policyFor('reject', { clusterSides: 'adverse' }), order }));
    expect(adverse.decision).toBe('APPROVE');
    const any = evaluatePretrade(contextWithClusters([above], { policy: policyFor('reject'), order }));
    expect(codes(any)).toEqual(['LIMIT_PRICE_IN_CLUSTER']);
  });

  it.each(actions)('when a MARKETABLE limit lies inside a NON-major zone (%s), then it is judged like a market order', (action) => {
    // Non-major short zone 100,200-100,400 above the mark; a buy limit at 100,300 reaches the asks.
    const zone = clusterAt('short', 20, { major: false });
    const v = limitAt([zone], action, zone.peakPrice, 1);
    const mkt = evaluatePretrade(contextWithClusters([zone], { policy: policyFor(action), order: buildOrder({ quantity: 1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(v.expectedSlippageBps).not.toBeNull();
    expect(codes(v)).toEqual(codes(mkt));
  });

  it.each(actions)('when a MARKETABLE limit lies inside a MAJOR zone (%s), then REJECT with LIMIT_PRICE_IN_CLUSTER and NO_TRADE_BUFFER', (action) => {
    const zone = clusterAt('short', 20);
    const v = limitAt([zone], action, zone.peakPrice, 0.1);
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['LIMIT_PRICE_IN_CLUSTER', 'NO_TRADE_BUFFER']);
  });

  it.each(
    actions.flatMap((action) => [
      { action, where: 'inside a major zone', clusters: [major], price: major.peakPrice },
      { action, where: 'within a major buffer', clusters: [major], price: major.priceHigh + 100 },
      { action, where: 'inside a non-major zone', clusters: [minor], price: minor.peakPrice },
    ]),
  )('when a reduce-only limit lies $where ($action), then it is approved in full', ({ action, clusters, price }) => {
    const v = limitAt(clusters, action, price, 3, { reduceOnly: true });
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 3, reasons: [] });
  });

  it('when no action is configured, then a limit inside a non-major zone is resized (the default is resize) and one inside a major zone rejected', () => {
    expect(buildPolicy().limitInClusterAction).toBe('resize');
    const order = (limitPrice: number) => buildOrder({ orderType: 'limit', limitPrice, quantity: 1 });
    expect(evaluatePretrade(contextWithClusters([minor], { order: order(minor.peakPrice) }))).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25 });
    expect(evaluatePretrade(contextWithClusters([major], { order: order(major.peakPrice) })).decision).toBe('REJECT');
  });
});

describe('evaluatePretrade: unrecognised trading state (fail closed)', () => {
  it.each([
    { global: 'halted', symbol: 'ACTIVE' },
    { global: 'ACTIVE', symbol: 'PAUSED' },
    { global: 'ACTIVE', symbol: '' },
  ])('when global=$global and symbol=$symbol, then a new order is rejected TRADING_HALTED showing the raw value', ({ global, symbol }) => {
    const tradingState = { global: global as TradingState, symbol: symbol as TradingState };
    const v = evaluatePretrade(buildContext({ tradingState }));
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['TRADING_HALTED']);
    expect(v.reasons[0]?.observed).toBe(`global=${global} symbol=${symbol}`);
  });

  it('when the state is unrecognised, then effectiveTradingState says HALTED and even reduce-only is rejected', () => {
    expect(effectiveTradingState('ACTIVE', 'halted' as TradingState)).toBe('HALTED');
    const v = evaluatePretrade(buildContext({ tradingState: { global: 'halted' as TradingState, symbol: 'ACTIVE' }, order: buildOrder({ reduceOnly: true }) }));
    expect(codes(v)).toEqual(['TRADING_HALTED']);
  });
});

describe('evaluatePretrade: invalid heatmap content is missing data (fail closed)', () => {
  const broken = (heatmap: Parameters<typeof buildHeatmap>[0], order = buildOrder({ quantity: 0.1 })) =>
    evaluatePretrade(buildContext({ market: buildMarket({ heatmap: viaJson(buildHeatmap(heatmap)) }), order }));

  it.each([
    { label: 'a major cluster 5 bps away with NaN bounds', heatmap: { clusters: [clusterAt('long', 5, { priceLow: Number.NaN, priceHigh: Number.NaN })] } },
    { label: 'a major cluster with inverted bounds', heatmap: { clusters: [clusterAt('long', 5, { priceLow: 99_950, priceHigh: 99_900 })] } },
    { label: 'a NaN crowding strength', heatmap: { crowding: { side: 'long' as const, strength: Number.NaN, fundingRate: 0.001, oiChangePct: 0 } } },
    { label: 'no clusters array', heatmap: { clusters: undefined as unknown as [] } },
  ])('when the heatmap has $label, then a new order is rejected HEATMAP_STALE', ({ heatmap }) => {
    const v = broken(heatmap);
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['HEATMAP_STALE']);
    expect(v.reasons[0]).toMatchObject({ observed: 'invalid data' });
    expect(v.riskScore).toBe(100);
  });

  it('when the heatmap is invalid, then a reduce-only order still passes with its stale-data warning', () => {
    const v = broken({ clusters: [clusterAt('long', 5, { priceLow: Number.NaN })] }, buildOrder({ quantity: 1, reduceOnly: true }));
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 1 });
    expect(warningCodes(v)).toEqual(['REDUCE_ONLY_STALE_DATA', 'REDUCE_ONLY_UNVERIFIED']);
  });

  it.each([
    { label: 'NaN bounds', patch: { priceLow: Number.NaN } },
    { label: 'inverted bounds', patch: { priceLow: 99_950, priceHigh: 99_900 } },
    { label: 'an invalid side', patch: { side: 'up' as unknown as 'long' } },
  ])('when a non-major cluster has $label, then a new order is rejected HEATMAP_STALE (limit prices in it are judged)', ({ patch }) => {
    const v = broken({ clusters: [clusterAt('long', 5, { major: false, ...patch }), clusterAt('long', 500)] });
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['HEATMAP_STALE']);
    expect(v.reasons[0]?.message).toMatch(/non-major cluster with invalid/);
  });

  it('when the model risk score is NaN, then the risk score is still a finite 0..100 number', () => {
    const heatmap = buildHeatmap({ risk: { score: Number.NaN, inputs: {} } });
    const v = evaluatePretrade(buildContext({ market: buildMarket({ heatmap }), order: buildOrder({ quantity: 0.1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(Number.isFinite(v.riskScore)).toBe(true);
    expect(v.riskScore).toBeGreaterThanOrEqual(0);
    expect(v.riskScore).toBeLessThanOrEqual(100);
  });
});
