import { describe, expect, it } from 'vitest';
import { evaluatePretrade, floorToStep } from '../../../src/domain/pretrade/evaluate.js';
import { maxQuantityWithinSlippage } from '../../../src/domain/pretrade/slippage.js';
import type { PretradeVerdict, ReasonCode } from '../../../src/domain/pretrade/types.js';
import { MARK, NOW, WEEKDAY_2130, buildBook, buildContext, buildHeatmap, buildMarket, buildOrder, buildPolicy, clusterAt, contextWithClusters } from './factories.js';
import { buildClusterAround, codes, expectConsistent, warningCodes } from './verdicts.js';

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
