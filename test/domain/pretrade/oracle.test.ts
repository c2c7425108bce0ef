import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketSpec, OrderBook } from '../../../src/domain/market-data.js';
import { evaluatePretrade, type PretradeContext } from '../../../src/domain/pretrade/evaluate.js';
import type { PretradeVerdict } from '../../../src/domain/pretrade/types.js';
import { maintenanceRate } from '../../../src/domain/margin.js';
import { bookArb, clusterArb, crowdingArb, orderFrom, tradingStateArb } from './arbitraries.js';
import { MAX_AGE_MS, NOW, buildBook, buildContext, buildHeatmap, buildMaintenanceMargin, buildMarket, buildPolicy, clusterAt, uniform } from './factories.js';

/**
 * Over random markets, books, orders and leverage, an independent oracle
 * (brute force over the raw clusters and book, written from the rules' definitions in
 * docs/pretrade-rules.md, sharing no code with src/domain/pretrade) lists the conditions
 * that must stop a risk-adding order. Whenever one holds, the gate must not approve it;
 * whatever it approves must fit every bound the oracle can compute.
 */

const WEEK_MS = 7 * 86_400_000;

const RUNS = 600;
const EPS = 1e-9;

const specArb: fc.Arbitrary<MarketSpec | null> = fc.option(
  fc.record({
    tickSize: fc.option(fc.constantFrom(0.01, 0.1, 0.5, 1)),
    quantityStep: fc.option(fc.constantFrom(0.001, 0.01, 0.25)),
    minQuantity: fc.option(fc.constantFrom(0.001, 0.01, 0.5)),
    maxQuantity: fc.option(fc.constantFrom(0.5, 3, 100)),
    minNotionalUsd: fc.option(fc.constantFrom(5, 100)),
    maxLeverage: fc.option(fc.constantFrom(20, 50, 125)),
  }),
  { freq: 2 },
);

const stateArb = tradingStateArb(18);

const contextArb: fc.Arbitrary<PretradeContext> = fc
  .record({
    mark: uniform(1, 200_000),
    now: fc.integer({ min: NOW, max: NOW + WEEK_MS }),
  })
  .chain(({ mark, now }) =>
    fc.record({
      mark: fc.constant(mark),
      now: fc.constant(now),
      // Half near the prices (where the edges are), half anywhere on the ladder.
      clusters: fc.array(clusterArb(mark, { distanceBps: fc.oneof(uniform(0, 150), uniform(0, 1_200)), widthBps: uniform(1, 150) }), { maxLength: 4 }),
      crowding: crowdingArb,
      volatility: fc.option(uniform(0, 400), { freq: 6 }),
      fundingPercentile: fc.option(uniform(0, 1), { freq: 6 }),
      // Mostly full (so the other rules' edges are reached), else anywhere, sometimes unknown.
      confidence: fc.oneof(
        { arbitrary: fc.constant<number | null>(1), weight: 2 },
        { arbitrary: fc.option(uniform(0, 1), { freq: 6 }).map((x): number | null => x), weight: 1 },
      ),
      emptyLadder: fc.integer({ min: 0, max: 49 }).map((x) => x === 0),
      book: bookArb(mark, now, {
        midOffsetBps: fc.oneof({ arbitrary: uniform(-100, 100), weight: 4 }, { arbitrary: uniform(-300, 300), weight: 1 }),
        halfSpreadBps: uniform(0.01, 10),
        levels: fc.integer({ min: 1, max: 40 }),
        ageMs: fc.oneof(
          { arbitrary: fc.integer({ min: 0, max: MAX_AGE_MS }), weight: 4 },
          { arbitrary: fc.integer({ min: -5_000, max: 2 * MAX_AGE_MS }), weight: 1 },
        ),
      }),
      spec: specArb,
      heatmapAgeMs: fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: MAX_AGE_MS }), weight: 18 },
        { arbitrary: fc.integer({ min: MAX_AGE_MS + 1, max: 3 * MAX_AGE_MS }), weight: 1 },
        { arbitrary: fc.integer({ min: -10_000, max: -1 }), weight: 1 }, // dated in the future
      ),
      global: stateArb,
      symbol: stateArb,
      side: fc.constantFrom('buy' as const, 'sell' as const),
      limit: fc.option(uniform(-0.12, 0.12), { freq: 2 }),
      leverage: fc.option(fc.oneof(uniform(1, 30), uniform(1, 300)), {
        nil: undefined,
        freq: 6,
      }),
      byNotional: fc.boolean(),
      size: uniform(0.01, 2),
      policy: fc.record({
        maxNotionalAction: fc.constantFrom('reject' as const, 'resize' as const),
        clusterSides: fc.constantFrom('any' as const, 'adverse' as const),
        limitInClusterAction: fc.constantFrom('reject' as const, 'resize' as const),
        noTradeBufferBps: uniform(0, 40),
        maxNotionalUsd: uniform(10_000, 5_000_000),
        liqClearanceBps: uniform(0, 200),
        leverageWhenMissing: fc.constantFrom('assume' as const, 'assume' as const, 'require' as const),
      }),
      maintenanceRate: fc.constantFrom(0, 0.004, 0.01),
    }),
  )
  .map((g) => {
    const heatmap = buildHeatmap({
      markPrice: g.mark,
      asOf: g.now - g.heatmapAgeMs,
      clusters: g.clusters,
      crowding: g.crowding,
      volatility: { realizedBpsPerHour: g.volatility, bars: 48 },
      funding: { rate: 0, percentile: g.fundingPercentile, samples: 500 },
      ...(g.emptyLadder ? { totalLongUsd: 0, totalShortUsd: 0 } : {}),
    });
    return buildContext({
      order: orderFrom(g, g.mark, g.policy.maxNotionalUsd),
      now: g.now,
      market: buildMarket({
        heatmap,
        asOf: heatmap.asOf,
        orderBook: g.book,
        spec: g.spec,
        confidence: g.confidence === null ? null : { value: g.confidence, unlocatedShare: 1 - g.confidence, venueCoverage: 1, accuracy: 1 },
      }),
      tradingState: { global: g.global, symbol: g.symbol },
      policy: buildPolicy(g.policy),
      maintenanceMargin: buildMaintenanceMargin(g.maintenanceRate),
    });
  });

/**
 * The same markets with the noise that stops everything removed (ACTIVE, fresh map and book,
 * a ladder, one or two clusters near the prices), so the cases sit on the edges of the
 * price, leverage and size rules.
 */
const focusedArb: fc.Arbitrary<PretradeContext> = fc
  .tuple(contextArb, uniform(-80, 80), uniform(0, 600), fc.boolean(), fc.boolean())
  .map(([ctx, midOffsetBps, zoneBps, short, major]) => {
    const market = ctx.market!;
    const mark = market.heatmap.markPrice;
    const side = short ? 'short' : 'long';
    const clusters = [clusterAt(side, zoneBps, { major }, mark, 40), ...market.heatmap.clusters.slice(0, 1)];
    const book = buildBook({ mid: mark * (1 + midOffsetBps / 10_000), halfSpread: mark * 1e-5, step: mark * 1e-4, size: 5, ts: ctx.now - 1_000 });
    const heatmap = { ...market.heatmap, clusters, asOf: ctx.now - 1_000, totalLongUsd: 1e8, totalShortUsd: 1e8 };
    return {
      ...ctx,
      market: { ...market, heatmap, asOf: heatmap.asOf, orderBook: book },
      tradingState: { global: 'ACTIVE' as const, symbol: 'ACTIVE' as const },
      order: { ...ctx.order, leverage: ctx.order.leverage ?? 5 },
    };
  });

// ---------------------------------------------------------------- the oracle

interface Oracle {
  /** Conditions under which a risk-adding order must not be approved (empty: none holds). */
  stops: string[];
  /** Bounds any approval must satisfy (only when data is usable). */
  bounds: { valuePx: number; step: number; minQ: number; minNotional: number; maxQ: number; sizeUsd: number; noBookUsd: number | null; maxSlip: number | null } | null;
}

const bpsOf = (x: number, mark: number) => (x / mark) * 10_000;

function hourFactor(ctx: PretradeContext): number {
  const d = new Date(ctx.now);
  const base = ctx.policy.timeOfDayHourlyUtc[d.getUTCHours()] ?? 1;
  const day = d.getUTCDay();
  return day === 0 || day === 6 ? base * ctx.policy.timeOfDayWeekendFactor : base;
}

/** Usable book, by its raw levels: fresh, not ahead beyond the skew, both sides, sorted, not crossed, mid near the mark. */
function usableBook(ctx: PretradeContext, mark: number): { bid: number; ask: number; mid: number; book: OrderBook } | null {
  const book = ctx.market?.orderBook;
  if (!book) return null;
  const age = ctx.now - book.ts;
  if (age > Math.min(ctx.maxHeatmapAgeMs, ctx.policy.maxHeatmapAgeMs ?? Infinity) || age < -ctx.policy.clockSkewToleranceMs) return null;
  if (book.bids.length === 0 || book.asks.length === 0) return null;
  const bid = book.bids[0]!.price;
  const ask = book.asks[0]!.price;
  if (!(bid < ask)) return null;
  const mid = (bid + ask) / 2;
  if (bpsOf(Math.abs(mid - mark), mark) > ctx.policy.maxBookMarkDeviationBps + EPS) return null;
  return { bid, ask, mid, book };
}

/** Slippage (bps of mid) of filling `q` on the raw book with every level scaled by `scale`, by a plain walk. */
function walkSlippage(book: OrderBook, side: 'buy' | 'sell', q: number, scale: number, mid: number): number {
  const levels = side === 'buy' ? book.asks : book.bids;
  let left = q;
  let cost = 0;
  let got = 0;
  for (const l of levels) {
    const take = Math.min(left, l.size * scale);
    cost += take * l.price;
    got += take;
    left -= take;
    if (left <= 0) break;
  }
  if (left > q * 1e-9) return Infinity; // not fillable
  const avg = cost / got;
  return Math.max(0, bpsOf(side === 'buy' ? avg - mid : mid - avg, mid));
}

function oracle(ctx: PretradeContext): Oracle {
  const { order, policy } = ctx;
  const stops: string[] = [];
  const market = ctx.market;
  const h = market?.heatmap;
  const mark = h?.markPrice ?? Number.NaN;
  const age = market ? ctx.now - market.asOf : Number.NaN;
  const maxAge = Math.min(ctx.maxHeatmapAgeMs, policy.maxHeatmapAgeMs ?? Infinity);
  const usable = h !== undefined && mark > 0 && age <= maxAge && age >= -policy.clockSkewToleranceMs && h.totalLongUsd + h.totalShortUsd > 0 && h.openInterestUsd > 0;
  if (!usable) stops.push('stale');
  const states = [ctx.tradingState.global, ctx.tradingState.symbol];
  if (states.some((s) => s !== 'ACTIVE')) stops.push('trading state');
  const mmr = maintenanceRate(ctx.maintenanceMargin);
  const lev = order.leverage ?? (policy.leverageWhenMissing === 'assume' ? policy.defaultLeverage : null);
  if (lev === null) stops.push('leverage required');
  if (lev !== null && mmr > 0 && lev >= 1 / mmr) stops.push('liquidatable at entry');
  const maxLev = policy.maxLeverage ?? market?.spec?.maxLeverage ?? null;
  if (lev !== null && maxLev !== null && lev > maxLev) stops.push('above max leverage');
  if (!usable || !h) return { stops, bounds: null };

  const b = usableBook(ctx, mark);
  const refs = b ? [mark, b.mid] : [mark];
  const limit = order.orderType === 'limit' ? (order.limitPrice as number) : null;
  const buy = order.side === 'buy';
  const band = (mark * policy.noBookMarketableBandBps) / 10_000;
  const marketable = limit !== null && (b ? (buy ? limit >= b.ask : limit <= b.bid) : buy ? limit >= mark - band : limit <= mark + band);
  const entries = limit === null ? refs : marketable ? [...refs, limit] : [limit];

  if (limit !== null && refs.some((p) => bpsOf(Math.abs(limit - p), mark) > policy.priceCollarBps + EPS)) stops.push('collar');

  const tod = hourFactor(ctx);
  const rv = h.volatility?.realizedBpsPerHour ?? null;
  const vol = rv === null ? policy.volatilityUnknownFactor : Math.max(policy.volatilityMinFactor, Math.min(1, policy.volatilityReferenceBpsPerHour / rv));
  const p = h.funding?.percentile ?? null;
  const fund = p !== null && (buy ? p >= policy.fundingExtremePercentile : p <= 1 - policy.fundingExtremePercentile) ? policy.fundingExtremeFactor : 1;
  const c = market?.confidence?.value ?? 0;
  const conf = policy.confidenceMinFactor + (1 - policy.confidenceMinFactor) * Math.min(1, c / policy.confidenceFullAt);
  const bufferPx = (mark * policy.noTradeBufferBps) / (tod * vol * fund * conf) / 10_000;
  const adverse = buy ? 'long' : 'short';
  const clearance = (mark * policy.liqClearanceBps) / 10_000;
  for (const c of h.clusters) {
    if (!c.major) continue;
    // Buffer: some reference lies within bufferPx of some price of the zone (interval overlap).
    if ((policy.clusterSides === 'any' || c.side === adverse) && entries.some((e) => e + bufferPx >= c.priceLow && e - bufferPx <= c.priceHigh)) {
      stops.push('buffer');
    }
    // Own liquidation from every possible entry: beyond the zone's far edge plus clearance, or stopped.
    if (lev !== null && c.side === adverse) {
      for (const e of entries) {
        const liq = buy ? e * (1 - 1 / lev + mmr) : e * (1 + 1 / lev - mmr);
        if (buy ? liq > c.priceLow - clearance + 1e-9 * mark : liq < c.priceHigh + clearance - 1e-9 * mark) stops.push('own liquidation');
      }
    }
  }
  const valuePx = Math.max(mark, b?.mid ?? 0, limit ?? 0);
  const requestedQ = order.quantity ?? (order.notional as number) / valuePx;
  if (policy.maxNotionalAction === 'reject' && requestedQ * valuePx > policy.maxNotionalUsd * (1 + 1e-12)) stops.push('max notional');

  const spec = market?.spec;
  const pick = (pol: number | null, venue: number | null | undefined, fallback: number) => pol ?? (venue !== null && venue !== undefined && venue > 0 ? venue : fallback);
  const step = pick(policy.quantityStep, spec?.quantityStep, 0.001);
  const walked = limit === null || marketable;
  return {
    stops,
    bounds: {
      valuePx,
      step,
      minQ: pick(policy.minQuantity, spec?.minQuantity, 0.001),
      minNotional: pick(policy.minNotionalUsd, spec?.minNotionalUsd, 5),
      maxQ: pick(policy.maxQuantity, spec?.maxQuantity, Infinity),
      sizeUsd: Math.min(policy.maxNotionalUsd, policy.maxNotionalUsd * tod * vol * fund * conf),
      noBookUsd: walked && !b ? policy.noBookMaxNotionalUsd * tod * vol * fund * conf : null,
      maxSlip: walked && b ? policy.maxSlippageBps : null,
    },
  };
}

function checkApproval(ctx: PretradeContext, v: PretradeVerdict, o: Oracle): void {
  const bnd = o.bounds;
  if (bnd === null) throw new Error('approved without usable data');
  const q = v.approvedQuantity;
  const n = q * bnd.valuePx;
  // Whole steps, within the venue's limits.
  expect(Math.abs(q / bnd.step - Math.round(q / bnd.step))).toBeLessThan(1e-6);
  expect(q).toBeGreaterThanOrEqual(bnd.minQ - 1e-12);
  expect(q).toBeLessThanOrEqual(bnd.maxQ + 1e-12);
  expect(n).toBeGreaterThanOrEqual(bnd.minNotional * (1 - 1e-9));
  // Size caps: every factor is at most 1, so the approval never exceeds the first ones.
  expect(n).toBeLessThanOrEqual(bnd.sizeUsd * (1 + 1e-9));
  if (bnd.noBookUsd !== null) expect(n).toBeLessThanOrEqual(bnd.noBookUsd * (1 + 1e-9));
  const book = ctx.market?.orderBook;
  if (bnd.maxSlip !== null && book) {
    // The gate's depth scale is at most the time-of-day factor: more depth, less slippage, a bound that must hold.
    const mid = (book.bids[0]!.price + book.asks[0]!.price) / 2;
    expect(walkSlippage(book, ctx.order.side, q, hourFactor(ctx), mid)).toBeLessThanOrEqual(bnd.maxSlip + 1e-6);
  }
}

describe('an independent oracle over random markets, books, orders and leverage', () => {
  // Biased runs hit the edges (0, bounds); unbiased runs spread over the ranges (fast-check's doubles cluster near 0 otherwise).
  it.each([
    { name: 'any market', arb: contextArb, unbiased: false },
    { name: 'any market, unbiased', arb: contextArb, unbiased: true },
    { name: 'markets at the edges of the price rules', arb: focusedArb, unbiased: false },
    { name: 'markets at the edges of the price rules, unbiased', arb: focusedArb, unbiased: true },
  ])('when any reject condition holds ($name), then no risk-adding order is approved or resized; what is approved fits every bound', ({ arb, unbiased }) => {
    fc.assert(
      fc.property(arb, (ctx) => {
        const v = evaluatePretrade(ctx);
        const o = oracle(ctx);
        if (o.stops.length > 0) {
          if (v.decision !== 'REJECT') throw new Error(`approved although: ${o.stops.join(', ')}`);
          return;
        }
        if (v.decision !== 'REJECT') checkApproval(ctx, v, o);
      }),
      unbiased ? { numRuns: RUNS, plugins: [fc.unbiased()] } : { numRuns: RUNS },
    );
  });

  it('when the same order is resent at its maxSafeLeverage, then no leverage rule rejects it', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        const safe = evaluatePretrade(ctx).maxSafeLeverage;
        if (safe === null || safe < 1) return;
        const again = evaluatePretrade({ ...ctx, order: { ...ctx.order, leverage: safe } });
        const leverageCodes = ['OWN_LIQUIDATION_IN_CLUSTER', 'LIQUIDATABLE_AT_ENTRY', 'LEVERAGE_ABOVE_MAX', 'LEVERAGE_REQUIRED'];
        expect(again.reasons.map((r) => r.code).filter((c) => leverageCodes.includes(c))).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('when leverage rises, then a decision never turns from REJECT to APPROVE (own liquidation is monotone in leverage)', () => {
    fc.assert(
      fc.property(contextArb, uniform(1, 300), uniform(1, 300), (ctx, a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const low = evaluatePretrade({ ...ctx, order: { ...ctx.order, leverage: lo } });
        const high = evaluatePretrade({ ...ctx, order: { ...ctx.order, leverage: hi } });
        if (low.decision === 'REJECT') expect(high.decision).toBe('REJECT');
        expect(high.approvedQuantity).toBeLessThanOrEqual(low.approvedQuantity);
      }),
      { numRuns: RUNS },
    );
  });
});
