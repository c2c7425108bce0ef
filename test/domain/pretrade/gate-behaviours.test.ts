import { describe, expect, it } from 'vitest';
import { evaluatePretrade } from '../../../src/domain/pretrade/evaluate.js';
import { liquidationDistance, liquidationPrice } from '../../../src/domain/margin.js';
import type { MarketSpec } from '../../../src/domain/market-data.js';
import { EMPTY_SPEC } from '../../../src/market/market-spec.js';
import {
  MARK,
  NOW,
  buildBook,
  buildCluster,
  buildContext,
  buildHeatmap,
  buildMarket,
  buildOrder,
  buildPolicy,
  clusterAt,
  contextWithClusters,
} from './factories.js';
import { codes, warningCodes } from './verdicts.js';

/** Behaviours of the gate across rules, one describe per concern, each test named after what it proves. */

/** A venue that publishes only the rules given. */
const spec = (s: Partial<MarketSpec>): MarketSpec => ({ ...EMPTY_SPEC, ...s });

describe('leverage', () => {
  it.each([
    { lev: 249.99, code: null },
    { lev: 250, code: 'LIQUIDATABLE_AT_ENTRY' },
    { lev: 1_000, code: 'LIQUIDATABLE_AT_ENTRY' },
  ])('when leverage is $lev with a 0.4% maintenance margin (1 / mmr = 250), then $code', ({ lev, code }) => {
    const v = evaluatePretrade(contextWithClusters([], { order: buildOrder({ leverage: lev, quantity: 0.1 }) }));
    if (code === null) {
      expect(v.decision).toBe('APPROVE');
    } else {
      expect(v.decision).toBe('REJECT');
      expect(v.reasons).toContainEqual(expect.objectContaining({ code, limit: 250, observed: lev }));
    }
  });

  it('when the venues publish a 20x maximum, then 25x is rejected LEVERAGE_ABOVE_MAX; a policy maximum overrides the venues', () => {
    // No clusters: only the leverage limits speak.
    const market = buildMarket({ heatmap: buildHeatmap({ clusters: [] }), spec: spec({ maxLeverage: 20 }) });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ leverage: 25, quantity: 0.1 }) }));
    expect(v.reasons).toContainEqual(expect.objectContaining({ code: 'LEVERAGE_ABOVE_MAX', limit: 20, observed: 25 }));
    expect(evaluatePretrade(buildContext({ market, order: buildOrder({ leverage: 20, quantity: 0.1 }) })).decision).toBe('APPROVE');
    const looser = evaluatePretrade(buildContext({ market, policy: buildPolicy({ maxLeverage: 50 }), order: buildOrder({ leverage: 25, quantity: 0.1 }) }));
    expect(codes(looser)).not.toContain('LEVERAGE_ABOVE_MAX');
  });

  // A major long zone 94,000-94,500: a long's liquidation must lie at or below 94,000 - 50 bps of the mark = 93,500.
  // Leverage bound: 1 / (1 + 0.004 - 93,500 / 100,000) = 1 / 0.069 = 14.49x.
  const zone = buildCluster({ side: 'long', priceLow: 94_000, priceHigh: 94_500, peakPrice: 94_250 });
  const atLev = (leverage: number, extra: Parameters<typeof buildOrder>[0] = {}) =>
    evaluatePretrade(contextWithClusters([zone], { order: buildOrder({ leverage, quantity: 0.1, ...extra }) }));

  it.each([
    { lev: 5, rejected: false, why: 'liquidation 80,400, beyond the zone' },
    { lev: 14.49, rejected: false, why: 'liquidation just beyond the far edge plus clearance' },
    { lev: 14.5, rejected: true, why: 'liquidation inside the clearance below the zone' },
    { lev: 17, rejected: true, why: 'liquidation inside the zone' },
    { lev: 60, rejected: true, why: 'liquidation between the mark and the zone (the old rule approved this)' },
  ])('when a long at $lev x ($why), then own-liquidation rejected=$rejected', ({ lev, rejected }) => {
    const v = atLev(lev);
    expect(codes(v).includes('OWN_LIQUIDATION_IN_CLUSTER')).toBe(rejected);
    expect(v.maxSafeLeverage).toBe(14.49);
    if (rejected) {
      expect(v.reasons.find((r) => r.code === 'OWN_LIQUIDATION_IN_CLUSTER')).toMatchObject({ limit: 14.49, observed: lev });
      expect(liquidationPrice('long', MARK, liquidationDistance(lev, 0.004))).toBeGreaterThan(93_500);
    }
  });

  it('when leverage rises from 1x to 200x, then once the own-liquidation rule rejects it never approves again (monotone)', () => {
    let rejectedOnce = false;
    for (let lev = 1; lev <= 200; lev += 0.5) {
      const rejected = codes(atLev(lev)).includes('OWN_LIQUIDATION_IN_CLUSTER');
      if (rejectedOnce) expect(rejected).toBe(true);
      rejectedOnce ||= rejected;
    }
    expect(rejectedOnce).toBe(true);
  });

  it('when a short has a major short zone above, then the bound mirrors: liquidation beyond the zone top plus clearance', () => {
    const shortZone = buildCluster({ side: 'short', priceLow: 105_500, priceHigh: 106_000, peakPrice: 105_750 });
    // Short liquidation must be >= 106,500: 1 / (1.065 - 1 + 0.004) = 14.49x.
    const v = evaluatePretrade(contextWithClusters([shortZone], { order: buildOrder({ side: 'sell', leverage: 20, quantity: 0.1 }) }));
    expect(codes(v)).toContain('OWN_LIQUIDATION_IN_CLUSTER');
    expect(v.maxSafeLeverage).toBe(14.49);
  });

  it('when any risk-adding order is decided on usable data, then it carries maxSafeLeverage; reduce-only and stale data carry null', () => {
    const calm = evaluatePretrade(contextWithClusters([], { order: buildOrder({ quantity: 0.1 }) }));
    expect(calm.maxSafeLeverage).toBe(249.99); // only the 1 / mmr bound
    const capped = evaluatePretrade(buildContext({ market: buildMarket({ heatmap: buildHeatmap({ clusters: [] }), spec: spec({ maxLeverage: 75 }) }) }));
    expect(capped.maxSafeLeverage).toBe(75);
    // The default market's long zone 94,800-95,000 (+ 50 bps): 1 / (1.004 - 94,300 / 100,000) = 16.39x.
    expect(evaluatePretrade(buildContext()).maxSafeLeverage).toBe(16.39);
    expect(evaluatePretrade(buildContext({ order: buildOrder({ reduceOnly: true }) })).maxSafeLeverage).toBeNull();
    expect(evaluatePretrade(buildContext({ market: null })).maxSafeLeverage).toBeNull();
    // Sending the maxSafeLeverage back is never rejected by a leverage rule.
    const again = atLev(atLev(60).maxSafeLeverage ?? 0);
    expect(codes(again)).toEqual([]);
  });

  it('when a risk-adding order gives no leverage, then the default 10x is assumed and said; with require it is rejected LEVERAGE_REQUIRED', () => {
    const assumed = evaluatePretrade(buildContext({ order: buildOrder({ leverage: undefined, quantity: 0.1 }) }));
    expect(assumed.decision).toBe('APPROVE');
    expect(assumed.warnings).toContainEqual(expect.objectContaining({ code: 'LEVERAGE_ASSUMED', limit: 10 }));
    // The assumed leverage is judged like a given one: 10x from 100,000 liquidates at 90,400.
    const far = buildCluster({ side: 'long', priceLow: 90_000, priceHigh: 91_000 });
    expect(codes(evaluatePretrade(contextWithClusters([far], { order: buildOrder({ leverage: undefined, quantity: 0.1 }) })))).toContain(
      'OWN_LIQUIDATION_IN_CLUSTER',
    );
    const policy = buildPolicy({ leverageWhenMissing: 'require' });
    const required = evaluatePretrade(buildContext({ policy, order: buildOrder({ leverage: undefined, quantity: 0.1 }) }));
    expect(required.decision).toBe('REJECT');
    expect(codes(required)).toEqual(['LEVERAGE_REQUIRED']);
    const closing = evaluatePretrade(buildContext({ policy, order: buildOrder({ leverage: undefined, quantity: 0.1, reduceOnly: true }) }));
    expect(closing.decision).toBe('APPROVE');
  });
});

describe('which price the gate measures from', () => {
  it('when the live book mid sits 40 bps above the mark and a major short zone 20 bps above the mid, then the stricter distance (from the mid) rejects', () => {
    const zone = clusterAt('short', 60); // 60 bps above the mark, 20 bps above the mid
    const market = buildMarket({ heatmap: buildHeatmap({ clusters: [zone] }), orderBook: buildBook({ mid: 100_400 }) });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 0.1 }) }));
    expect(codes(v)).toContain('NO_TRADE_BUFFER');
    expect(v.reasons[0]?.observed).toBeCloseTo(20, 1);
    const markOnly = evaluatePretrade(buildContext({ market: { ...market, orderBook: buildBook() }, order: buildOrder({ quantity: 0.1 }) }));
    expect(markOnly.decision).toBe('APPROVE');
  });

  it('when the book mid is 300 bps from the mark, then BOOK_MARK_DIVERGENCE shows on every order and a market order gets the no-book cap', () => {
    const market = buildMarket({ orderBook: buildBook({ mid: 103_000 }) });
    const mkt = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 5 }) }));
    expect(mkt).toMatchObject({ decision: 'RESIZE', approvedQuantity: 0.25 });
    expect(codes(mkt)).toEqual(['NO_ORDER_BOOK']);
    expect(mkt.warnings).toContainEqual(expect.objectContaining({ code: 'BOOK_MARK_DIVERGENCE', limit: 100, observed: 300 }));
    const passive = evaluatePretrade(buildContext({ market, order: buildOrder({ orderType: 'limit', limitPrice: 98_000, quantity: 0.1 }) }));
    expect(warningCodes(passive)).toContain('BOOK_MARK_DIVERGENCE');
    const closing = evaluatePretrade(buildContext({ market, order: buildOrder({ reduceOnly: true, side: 'sell' }) }));
    expect(warningCodes(closing)).toContain('BOOK_MARK_DIVERGENCE');
  });

  it.each([
    { label: 'a buy limit 30 bps below the mark (inside the 50 bps band)', side: 'buy' as const, limitPrice: 99_700, capped: true },
    { label: 'a buy limit 80 bps below the mark', side: 'buy' as const, limitPrice: 99_200, capped: false },
    { label: 'a sell limit 49 bps above the mark', side: 'sell' as const, limitPrice: 100_490, capped: true },
    { label: 'a sell limit 60 bps above the mark', side: 'sell' as const, limitPrice: 100_600, capped: false },
  ])('when there is no usable book and $label, then the no-book cap applies=$capped', ({ side, limitPrice, capped }) => {
    const v = evaluatePretrade(buildContext({ market: buildMarket({ orderBook: null }), order: buildOrder({ side, orderType: 'limit', limitPrice, quantity: 5 }) }));
    expect(codes(v).includes('NO_ORDER_BOOK')).toBe(capped);
    expect(v.decision).toBe(capped ? 'RESIZE' : 'APPROVE');
  });

  it('when the book mid is 90 bps above the mark, then the collar measures a sell limit from the farther of the two', () => {
    const market = buildMarket({ orderBook: buildBook({ mid: 100_900 }) });
    // 90,500 is 950 bps from the mark (inside the 1000 bps collar) but 1040 bps from the mid.
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ side: 'sell', orderType: 'limit', limitPrice: 90_500, quantity: 0.1 }) }));
    expect(v.reasons).toContainEqual(expect.objectContaining({ code: 'PRICE_COLLAR', limit: 1_000, observed: 1_040 }));
  });
});

describe('reduce-only and one valuation', () => {
  it('when a passive buy limit sits 5% below the mark, then its notional is valued at the mark: 10.4 BTC breaks max notional', () => {
    const v = evaluatePretrade(contextWithClusters([], { order: buildOrder({ orderType: 'limit', limitPrice: 95_000, quantity: 10.4 }) }));
    expect(v.requestedNotional).toBe(1_040_000);
    expect(v.reasons).toContainEqual(expect.objectContaining({ code: 'MAX_NOTIONAL', limit: 1_000_000, observed: 1_040_000 }));
  });

  it('when a reduce-only sell walks a thin book past the slippage budget, then it is approved in full with SLIPPAGE_LIMIT and REDUCE_ONLY_UNVERIFIED warnings', () => {
    const market = buildMarket({ orderBook: buildBook({ size: 0.05 }) });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ side: 'sell', quantity: 9, reduceOnly: true }) }));
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 9, reasons: [] });
    expect(warningCodes(v)).toEqual(['SLIPPAGE_LIMIT', 'REDUCE_ONLY_UNVERIFIED']);
    expect(v.warnings[0]?.limit).toBe(15);
    expect(Number(v.warnings[0]?.observed)).toBeGreaterThan(15);
  });

  it('when a reduce-only limit is far outside the collar, then it is rejected PRICE_COLLAR like any order', () => {
    const v = evaluatePretrade(buildContext({ order: buildOrder({ side: 'sell', orderType: 'limit', limitPrice: 120_000, reduceOnly: true }) }));
    expect(codes(v)).toEqual(['PRICE_COLLAR']);
  });

  it('when a reduce-only notional is worth less than one quantity step, then it is rejected QUANTITY_STEP, never approved as 0', () => {
    const v = evaluatePretrade(buildContext({ order: buildOrder({ side: 'sell', notional: 50, reduceOnly: true }) }));
    expect(v).toMatchObject({ decision: 'REJECT', approvedQuantity: 0 });
    expect(v.reasons).toEqual([expect.objectContaining({ code: 'QUANTITY_STEP', limit: 0.001, observed: 0 })]);
  });

  it('when a reduce-only sell limit above the mark is given as a notional, then it converts at the limit (the higher price)', () => {
    const v = evaluatePretrade(buildContext({ order: buildOrder({ side: 'sell', orderType: 'limit', limitPrice: 105_000, notional: 105_000, reduceOnly: true }) }));
    expect(v).toMatchObject({ decision: 'APPROVE', requestedQuantity: 1, approvedNotional: 105_000 });
  });
});

describe('freshness', () => {
  it.each([
    { label: 'an empty ladder (no liquidation notional)', heatmap: { totalLongUsd: 0, totalShortUsd: 0 } },
    { label: 'zero open interest', heatmap: { openInterestUsd: 0 } },
    { label: 'NaN open interest', heatmap: { openInterestUsd: Number.NaN } },
  ])('when the heatmap has $label, then a risk-adding order is rejected HEATMAP_STALE and a reduce-only one passes with a warning', ({ heatmap }) => {
    const market = buildMarket({ heatmap: buildHeatmap(heatmap) });
    const v = evaluatePretrade(buildContext({ market }));
    expect(codes(v)).toEqual(['HEATMAP_STALE']);
    expect(v.reasons[0]?.observed).toBe('invalid data');
    const closing = evaluatePretrade(buildContext({ market, order: buildOrder({ reduceOnly: true }) }));
    expect(closing.decision).toBe('APPROVE');
    expect(warningCodes(closing)).toContain('REDUCE_ONLY_STALE_DATA');
  });

  it('when the market view is dated NaN, then the data is stale', () => {
    const v = evaluatePretrade(buildContext({ market: buildMarket({ asOf: Number.NaN }) }));
    expect(codes(v)).toEqual(['HEATMAP_STALE']);
  });
});

describe('numbers (one shape per code, ticks, steps, venue specs)', () => {
  it('when MAX_NOTIONAL applies in reject or resize mode, then limit and observed are USD in both', () => {
    for (const maxNotionalAction of ['reject', 'resize'] as const) {
      const v = evaluatePretrade(buildContext({ policy: buildPolicy({ maxNotionalAction }), order: buildOrder({ quantity: 15 }) }));
      expect(v.reasons.find((r) => r.code === 'MAX_NOTIONAL')).toMatchObject({ limit: 1_000_000, observed: 1_500_000 });
    }
  });

  it('when LIMIT_PRICE_IN_CLUSTER rejects or resizes, then limit is the zone and observed the limit price in both modes', () => {
    const minor = clusterAt('long', 200, { major: false });
    for (const limitInClusterAction of ['reject', 'resize'] as const) {
      const v = evaluatePretrade(
        contextWithClusters([minor], { policy: buildPolicy({ limitInClusterAction }), order: buildOrder({ orderType: 'limit', limitPrice: minor.peakPrice }) }),
      );
      expect(v.reasons.find((r) => r.code === 'LIMIT_PRICE_IN_CLUSTER')).toMatchObject({ limit: `${minor.priceLow}-${minor.priceHigh}`, observed: minor.peakPrice });
    }
  });

  it('when the venues publish a 0.5 tick, then prices in reasons and messages are rounded to it', () => {
    const zone = buildCluster({ side: 'long', priceLow: 96_812.3456, priceHigh: 96_990.9, peakPrice: 96_900 });
    const market = buildMarket({ heatmap: buildHeatmap({ clusters: [zone] }), spec: spec({ tickSize: 0.5 }) });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ orderType: 'limit', limitPrice: 96_900.3 }) }));
    expect(v.reasons[0]).toMatchObject({ code: 'LIMIT_PRICE_IN_CLUSTER', limit: '96812.5-96991', observed: 96_900.5 });
    expect(v.reasons[0]?.message).toContain('96900.5');
    expect(v.reasons[0]?.message).not.toContain('96812.3456');
  });

  it('when a quantity is not a multiple of the step, then the approval is rounded down on every path (QUANTITY_STEP), reduce-only included', () => {
    const policy = buildPolicy({ quantityStep: 0.01, minQuantity: 0.01 });
    const v = evaluatePretrade(buildContext({ policy, order: buildOrder({ quantity: 1.2345 }) }));
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 1.23, approvedNotional: 123_000 });
    expect(v.reasons).toEqual([expect.objectContaining({ code: 'QUANTITY_STEP', limit: 0.01, observed: 1.2345 })]);
    const closing = evaluatePretrade(buildContext({ policy, order: buildOrder({ quantity: 1.2345, reduceOnly: true }) }));
    expect(closing).toMatchObject({ decision: 'RESIZE', approvedQuantity: 1.23 });
  });

  it('when the venues publish step, minimum and maximum, then the approval satisfies them and the policy overrides them', () => {
    const market = buildMarket({ spec: spec({ quantityStep: 0.01, minQuantity: 0.05, maxQuantity: 2 }) });
    const small = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 0.03 }) }));
    expect(small.reasons).toContainEqual(expect.objectContaining({ code: 'BELOW_MIN_SIZE', limit: 0.05, observed: 0.03 }));
    const big = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 3 }) }));
    expect(big).toMatchObject({ decision: 'RESIZE', approvedQuantity: 2 });
    expect(big.reasons).toContainEqual(expect.objectContaining({ code: 'MAX_QUANTITY', limit: 2, observed: 3 }));
    const bigClose = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 3, reduceOnly: true }) }));
    expect(bigClose).toMatchObject({ decision: 'RESIZE', approvedQuantity: 2 });
    const policy = buildPolicy({ quantityStep: 0.1, minQuantity: 0.1 });
    expect(evaluatePretrade(buildContext({ market, policy, order: buildOrder({ quantity: 1.25 }) })).approvedQuantity).toBe(1.2);
  });

  it.each([
    { label: 'a NaN step', s: { quantityStep: Number.NaN } },
    { label: 'a negative step', s: { quantityStep: -1 } },
    { label: 'a zero maximum quantity', s: { maxQuantity: 0 } },
    { label: 'a NaN maximum leverage', s: { maxLeverage: Number.NaN } },
  ])('when the venue spec has $label, then it is ignored and the fallback applies (never a looser or a broken rule)', ({ s }) => {
    const v = evaluatePretrade(buildContext({ market: buildMarket({ spec: spec(s) }), order: buildOrder({ quantity: 1.5 }) }));
    expect(v).toMatchObject({ decision: 'APPROVE', approvedQuantity: 1.5 });
  });
});

describe('volatility', () => {
  const withVol = (realizedBpsPerHour: number | null) => buildMarket({ heatmap: buildHeatmap({ volatility: { realizedBpsPerHour, bars: 48 } }) });

  it.each([
    { vol: 40, approved: 9, code: null },
    { vol: 60, approved: 9, code: null },
    { vol: 120, approved: 5, code: 'VOLATILITY' },
    { vol: 1_000, approved: 2.5, code: 'VOLATILITY' },
  ])('when realized volatility is $vol bps/h (reference 60, floor 0.25), then 9 BTC gets $approved', ({ vol, approved, code }) => {
    const v = evaluatePretrade(buildContext({ market: withVol(vol), order: buildOrder({ quantity: 9 }) }));
    expect(v.approvedQuantity).toBeCloseTo(approved, 9);
    if (code) expect(v.reasons).toContainEqual(expect.objectContaining({ code, limit: Math.max(0.25, 60 / vol), observed: vol }));
    else expect(codes(v)).toEqual([]);
  });

  it('when volatility is 120 bps/h, then the buffer doubles (30 -> 60 bps) and the rejection names VOLATILITY', () => {
    const market = buildMarket({ heatmap: buildHeatmap({ clusters: [clusterAt('long', 45)], volatility: { realizedBpsPerHour: 120, bars: 48 } }) });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 0.1 }) }));
    expect(codes(v)).toEqual(['NO_TRADE_BUFFER', 'VOLATILITY']);
    expect(v.reasons[0]?.limit).toBe(60);
  });

  it.each([
    { label: 'absent (an old stored map)', volatility: undefined },
    { label: 'null (too few bars)', volatility: { realizedBpsPerHour: null, bars: 3 } },
    { label: 'NaN', volatility: { realizedBpsPerHour: Number.NaN, bars: 48 } },
    { label: 'negative', volatility: { realizedBpsPerHour: -5, bars: 48 } },
  ])('when volatility is $label, then the conservative factor 0.5 applies and VOLATILITY_UNKNOWN says so', ({ volatility }) => {
    const market = buildMarket({ heatmap: { ...buildHeatmap(), volatility } });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 9 }) }));
    expect(v.approvedQuantity).toBe(5);
    expect(v.reasons).toContainEqual(expect.objectContaining({ code: 'VOLATILITY', limit: 0.5, observed: null }));
    expect(v.warnings).toContainEqual(expect.objectContaining({ code: 'VOLATILITY_UNKNOWN', limit: 0.5 }));
  });
});

describe('extreme funding', () => {
  const withFunding = (percentile: number | null, clusters = buildHeatmap().clusters) =>
    buildMarket({ heatmap: buildHeatmap({ clusters, funding: { rate: 0.001, percentile, samples: 500 } }) });

  it.each([
    { p: 0.97, side: 'buy' as const, approved: 5, code: 'FUNDING_EXTREME' },
    { p: 0.97, side: 'sell' as const, approved: 9, code: null },
    { p: 0.03, side: 'sell' as const, approved: 5, code: 'FUNDING_EXTREME' },
    { p: 0.03, side: 'buy' as const, approved: 9, code: null },
    { p: 0.9, side: 'buy' as const, approved: 9, code: null },
  ])('when funding sits at percentile $p, then a $side of 9 BTC gets $approved', ({ p, side, approved, code }) => {
    const v = evaluatePretrade(buildContext({ market: withFunding(p), order: buildOrder({ side, quantity: 9 }) }));
    expect(v.approvedQuantity).toBe(approved);
    if (code) expect(v.reasons).toContainEqual(expect.objectContaining({ code, limit: 0.5, observed: p }));
    else expect(codes(v)).toEqual([]);
  });

  it('when funding is extreme, then the exposed side\'s buffer doubles and the rejection names FUNDING_EXTREME', () => {
    const v = evaluatePretrade(buildContext({ market: withFunding(0.99, [clusterAt('long', 45)]), order: buildOrder({ quantity: 0.1 }) }));
    expect(codes(v)).toEqual(['NO_TRADE_BUFFER', 'FUNDING_EXTREME']);
  });

  it.each([{ p: null }, { p: Number.NaN }, { p: 2 }])('when the funding percentile is $p, then no funding tightening applies and FUNDING_UNKNOWN says so', ({ p }) => {
    const v = evaluatePretrade(buildContext({ market: withFunding(p), order: buildOrder({ quantity: 9 }) }));
    expect(v.approvedQuantity).toBe(9);
    expect(warningCodes(v)).toContain('FUNDING_UNKNOWN');
  });
});

describe('attacks: inputs that must never approve what should be stopped', () => {
  it.each([
    { label: 'a 1e308 quantity', order: { quantity: 1e308 } },
    { label: 'a 1e308 quantity, reduce-only', order: { quantity: 1e308, reduceOnly: true } },
    { label: 'a 1e308 limit price', order: { orderType: 'limit' as const, limitPrice: 1e308 } },
    { label: 'a 1e308 limit price, reduce-only', order: { orderType: 'limit' as const, limitPrice: 1e308, reduceOnly: true } },
    { label: 'a 1e308 leverage', order: { leverage: 1e308 } },
    { label: 'an Infinity quantity', order: { quantity: Infinity } },
    { label: 'a NaN notional', order: { notional: Number.NaN } },
    { label: 'a negative limit price', order: { orderType: 'limit' as const, limitPrice: -100_000 } },
    { label: 'a NaN leverage', order: { leverage: Number.NaN } },
    { label: 'a leverage below 1', order: { leverage: 0.5 } },
  ])('when the order has $label, then it is rejected and every number in the verdict is finite', ({ order }) => {
    const v = evaluatePretrade(buildContext({ order: buildOrder(order) }));
    expect(v.decision).toBe('REJECT');
    for (const x of [v.requestedQuantity, v.approvedQuantity, v.requestedNotional, v.approvedNotional, v.riskScore]) expect(Number.isFinite(x)).toBe(true);
  });

  it.each([
    { label: 'a heatmap dated a year ahead', market: () => buildMarket({ asOf: NOW + 365 * 86_400_000 }) },
    { label: 'an Infinity mark', market: () => buildMarket({ heatmap: buildHeatmap({ markPrice: Infinity }) }) },
    { label: 'a negative mark', market: () => buildMarket({ heatmap: buildHeatmap({ markPrice: -1 }) }) },
    { label: 'a negative ladder', market: () => buildMarket({ heatmap: buildHeatmap({ totalLongUsd: -1e9, totalShortUsd: 0 }) }) },
  ])('when the market has $label, then a risk-adding order is rejected HEATMAP_STALE', ({ market }) => {
    expect(codes(evaluatePretrade(buildContext({ market: market() })))).toContain('HEATMAP_STALE');
  });
});
