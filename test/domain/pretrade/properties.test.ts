import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectiveTradingState, evaluatePretrade, type PretradeContext } from '../../../src/domain/pretrade/evaluate.js';
import { bookArb, clusterArb, crowdingArb, orderFrom, tradingStateArb } from './arbitraries.js';
import { MAX_AGE_MS, NOW, buildContext, buildHeatmap, buildMarket, buildPolicy, clusterAt, uniform } from './factories.js';
import { expectConsistent } from './verdicts.js';

/**
 * Properties over random markets, orders, states and policies. Each generated case is
 * a full context; the properties hold for every one of them.
 */

const WEEK_MS = 7 * 86_400_000;

const RUNS = 400;

// Mostly ACTIVE and fresh, so most cases reach the sizing rules (where the properties bite).
const stateArb = tradingStateArb(8);

const contextArb: fc.Arbitrary<PretradeContext> = fc
  .record({
    mark: uniform(1, 200_000),
    now: fc.integer({ min: NOW, max: NOW + WEEK_MS }),
    // Steps that are not powers of ten too (0.25, 2.5): rounding must never land above a cap.
    step: fc.constantFrom(0.001, 0.01, 1, 0.25, 2.5),
  })
  .chain(({ mark, now, step }) =>
    fc.record({
      clusters: fc.array(clusterArb(mark, { distanceBps: uniform(0, 800), widthBps: uniform(1, 100) }), { maxLength: 5 }),
      crowding: crowdingArb,
      book: bookArb(mark, now, {
        halfSpreadBps: uniform(0, 10),
        levels: fc.integer({ min: 1, max: 60 }),
        ageMs: fc.integer({ min: -2 * MAX_AGE_MS, max: 2 * MAX_AGE_MS }), // negative: dated in the future
      }),
      heatmapAgeMs: fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: MAX_AGE_MS }), weight: 9 },
        { arbitrary: fc.integer({ min: MAX_AGE_MS + 1, max: 3 * MAX_AGE_MS }), weight: 1 },
      ),
      hasMarket: fc.integer({ min: 0, max: 19 }).map((x) => x > 0),
      global: stateArb,
      symbol: stateArb,
      side: fc.constantFrom('buy' as const, 'sell' as const),
      limit: fc.option(uniform(-0.12, 0.12), { freq: 2 }),
      leverage: fc.option(uniform(1, 125), { nil: undefined }),
      byNotional: fc.boolean(),
      size: uniform(1e-5, 2),
      reduceOnly: fc.boolean(),
      policy: fc.record({
        maxNotionalAction: fc.constantFrom('reject' as const, 'resize' as const),
        clusterSides: fc.constantFrom('any' as const, 'adverse' as const),
        limitInClusterAction: fc.constantFrom('reject' as const, 'resize' as const),
        limitInClusterSizeFactor: fc.oneof(fc.constantFrom(0, 0.25, 1), uniform(0, 1)),
        noTradeBufferBps: uniform(0, 100),
        maxNotionalUsd: uniform(10_000, 5_000_000),
      }),
      mark: fc.constant(mark),
      now: fc.constant(now),
      step: fc.constant(step),
    }),
  )
  .map((g) => {
    const heatmap = buildHeatmap({
      markPrice: g.mark,
      asOf: g.now - g.heatmapAgeMs,
      clusters: g.clusters,
      crowding: g.crowding,
    });
    return buildContext({
      // `size` is a fraction of max notional (up to 2x), so orders span every cap.
      order: orderFrom(g, g.mark, g.policy.maxNotionalUsd),
      now: g.now,
      market: g.hasMarket ? buildMarket({ heatmap, asOf: heatmap.asOf, orderBook: g.book }) : null,
      tradingState: { global: g.global, symbol: g.symbol },
      policy: buildPolicy({ ...g.policy, quantityStep: g.step, minQuantity: g.step, minNotionalUsd: Math.min(5, g.policy.maxNotionalUsd / 2) }),
    });
  });

/** The same context asking for `quantity` instead (a risk-adding order: reduce-only is trivially monotone). */
const withQuantity = (ctx: PretradeContext, quantity: number): PretradeContext => ({
  ...ctx,
  order: { ...ctx.order, quantity, notional: undefined, reduceOnly: false },
});

/**
 * The price max notional is valued at: the mark for market orders, the higher of the
 * limit and the mark for limits (a marketable sell below the mark fills near the mark;
 * for a passive limit this only narrows the range tested).
 */
const refPrice = (ctx: PretradeContext): number => {
  const mark = ctx.market?.heatmap.markPrice ?? 1;
  return ctx.order.orderType === 'limit' ? Math.max(ctx.order.limitPrice as number, mark) : mark;
};

/** A fraction 0..1 of `maxQ`, kept strictly below it (float noise must not cross max notional). */
const below = (x: number, maxQ: number): number => x * maxQ * (1 - 1e-9) + 1e-12;

describe('evaluatePretrade properties', () => {
  it('approved <= requested, decisions match quantities, every number is finite', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        const v = evaluatePretrade(ctx);
        expect(v.approvedQuantity).toBeLessThanOrEqual(v.requestedQuantity);
        expect(v.approvedNotional).toBeLessThanOrEqual(v.requestedNotional + 1e-9 * v.requestedNotional);
        expectConsistent(v);
        for (const x of [v.requestedQuantity, v.approvedQuantity, v.requestedNotional, v.approvedNotional, v.riskScore, v.timeOfDayMultiplier]) {
          expect(Number.isFinite(x)).toBe(true);
        }
        if (v.expectedSlippageBps !== null) expect(Number.isFinite(v.expectedSlippageBps)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('a reduce-only order is never blocked by cluster, size, crowding or data rules while ACTIVE or REDUCING', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        const v = evaluatePretrade({ ...ctx, order: { ...ctx.order, reduceOnly: true } });
        const halted = effectiveTradingState(ctx.tradingState.global, ctx.tradingState.symbol) === 'HALTED';
        // Only the trading state, the collar (every order), and whole steps (what a venue can take) can stop it.
        const allowed = halted ? ['TRADING_HALTED', 'PRICE_COLLAR', 'QUANTITY_STEP'] : ['PRICE_COLLAR', 'QUANTITY_STEP'];
        for (const r of v.reasons) expect(allowed).toContain(r.code);
        if (!halted && v.reasons.length === 0) expect(v.decision).toBe('APPROVE');
      }),
      { numRuns: RUNS },
    );
  });

  it('under the same state and below max notional, asking for more never yields a smaller approval', () => {
    fc.assert(
      fc.property(
        contextArb,
        uniform(0, 1),
        uniform(0, 1),
        (ctx, a, b) => {
          const maxQ = ctx.policy.maxNotionalUsd / refPrice(ctx);
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const small = evaluatePretrade(withQuantity(ctx, below(lo, maxQ)));
          const large = evaluatePretrade(withQuantity(ctx, below(hi, maxQ)));
          expect(large.approvedQuantity).toBeGreaterThanOrEqual(small.approvedQuantity);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('lowering the heatmap confidence (to unknown at the bottom) never makes a decision more permissive', () => {
    const STRICTNESS = { APPROVE: 0, RESIZE: 1, REJECT: 2 } as const;
    const withConfidence = (ctx: PretradeContext, value: number | null): PretradeContext =>
      ctx.market === null
        ? ctx
        : { ...ctx, market: { ...ctx.market, confidence: value === null ? null : { value, unlocatedShare: 0, venueCoverage: value, accuracy: 1 } } };
    fc.assert(
      fc.property(contextArb, uniform(0, 1), fc.option(uniform(0, 1), { freq: 4 }), (ctx, a, b) => {
        // `lower` is below `higher`; null (unknown) is the lowest of all.
        const [lower, higher] = b === null ? [null, a] : a < b ? [a, b] : [b, a];
        const trusted = evaluatePretrade(withConfidence(ctx, higher));
        const doubted = evaluatePretrade(withConfidence(ctx, lower));
        expect(STRICTNESS[doubted.decision]).toBeGreaterThanOrEqual(STRICTNESS[trusted.decision]);
        expect(doubted.approvedQuantity).toBeLessThanOrEqual(trusted.approvedQuantity);
      }),
      { numRuns: RUNS },
    );
  });

  it('a request just above an approved cap never gets more than the cap (monotonicity at the rounding step)', () => {
    fc.assert(
      fc.property(contextArb, uniform(0, 2), (ctx, u) => {
        const maxQ = (ctx.policy.maxNotionalUsd / refPrice(ctx)) * (1 - 1e-9);
        const cap = evaluatePretrade(withQuantity(ctx, maxQ)).approvedQuantity;
        const q = Math.min(cap + u * (ctx.policy.quantityStep ?? 0.001), maxQ);
        if (q > 0) expect(evaluatePretrade(withQuantity(ctx, q)).approvedQuantity).toBeLessThanOrEqual(cap);
      }),
      { numRuns: RUNS },
    );
  });

  it('with maxNotionalAction resize, approval is non-decreasing at every size', () => {
    fc.assert(
      fc.property(contextArb, uniform(0, 10), uniform(0, 10), (ctx0, a, b) => {
        const ctx = { ...ctx0, policy: { ...ctx0.policy, maxNotionalAction: 'resize' as const } };
        const maxQ = ctx.policy.maxNotionalUsd / refPrice(ctx);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(evaluatePretrade(withQuantity(ctx, hi * maxQ + 1e-12)).approvedQuantity).toBeGreaterThanOrEqual(
          evaluatePretrade(withQuantity(ctx, lo * maxQ + 1e-12)).approvedQuantity,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('a passive limit inside a non-major zone under resize gets at most factor x requested, non-decreasing in the request', () => {
    fc.assert(
      fc.property(
        contextArb,
        uniform(0, 1),
        uniform(0, 1),
        uniform(0, 1),
        (ctx0, at, a, b) => {
          // A non-major long zone 100-130 bps below the mark and a buy limit inside it (passive: below
          // any ask, and beyond the 50 bps band within which a limit counts as marketable without a book).
          const mark = ctx0.market?.heatmap.markPrice ?? 1;
          const zone = clusterAt('long', 100, { major: false }, mark, 30);
          const limitPrice = zone.priceLow + at * (zone.priceHigh - zone.priceLow);
          const market = ctx0.market && { ...ctx0.market, heatmap: { ...ctx0.market.heatmap, clusters: [zone] } };
          const ctx: PretradeContext = {
            ...ctx0,
            market,
            policy: { ...ctx0.policy, limitInClusterAction: 'resize' },
            order: { ...ctx0.order, side: 'buy', orderType: 'limit', limitPrice },
          };
          const maxQ = ctx.policy.maxNotionalUsd / refPrice(ctx);
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const small = evaluatePretrade(withQuantity(ctx, below(lo, maxQ)));
          const large = evaluatePretrade(withQuantity(ctx, below(hi, maxQ)));
          expect(large.approvedQuantity).toBeGreaterThanOrEqual(small.approvedQuantity);
          const f = ctx.policy.limitInClusterSizeFactor;
          if (f < 1) expect(large.approvedQuantity).toBeLessThanOrEqual(f * large.requestedQuantity * (1 + 1e-12));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('is deterministic and leaves its inputs untouched', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        const before = structuredClone(ctx);
        const first = evaluatePretrade(ctx);
        expect(evaluatePretrade(ctx)).toEqual(first);
        expect(ctx).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });
});
