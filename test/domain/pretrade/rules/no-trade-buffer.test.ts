import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCascades } from '../../../../src/domain/heatmap/cascade.js';
import { HeatmapParamsSchema } from '../../../../src/domain/heatmap/params.js';
import type { Cascades, Cluster } from '../../../../src/domain/heatmap/types.js';
import { evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import { MARK, NOW, WEEKDAY_2130, buildBook, buildContext, buildOrder, buildPolicy, clusterAt, contextWithClusters, marketAt, uniform } from '../factories.js';
import { codes } from '../verdicts.js';

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

  it.each([
    { confidence: 1, buffer: 30, rejected: false },
    { confidence: 0.8, buffer: 30, rejected: false },
    { confidence: 0.4, buffer: 40, rejected: true },
    { confidence: null, buffer: 60, rejected: true },
  ])('when a cluster is 35 bps away and the map confidence is $confidence, then the buffer is $buffer bps and rejected=$rejected', ({ confidence, buffer, rejected }) => {
    const conf = confidence === null ? null : { value: confidence, unlocatedShare: 0, venueCoverage: confidence, accuracy: 1 };
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 35)], { market: marketAt(NOW, { clusters: [clusterAt('long', 35)] }, { confidence: conf }), order: buildOrder({ quantity: 0.1 }) }));
    expect(v.decision === 'REJECT').toBe(rejected);
    expect(v.confidence).toEqual(conf);
    if (rejected) {
      expect(codes(v)).toEqual(['NO_TRADE_BUFFER', 'LOW_CONFIDENCE']);
      expect(v.reasons[0]?.limit).toBeCloseTo(buffer, 2);
      expect(v.reasons[1]?.observed).toBe(confidence);
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

describe('evaluatePretrade: the no-trade buffer widens for a cascade', () => {
  const cascadeParams = HeatmapParamsSchema.parse({}).cascade;
  /** The default book (10 BTC a bps, thinned to 5) walked by the heatmap's cascade: 5% of 1B of longs (50M) move the price 99.05 bps. */
  const withCascades = (clusters: Cluster[], order = buildOrder({ quantity: 0.1 })) =>
    buildContext({ order, market: marketAt(NOW, { clusters, cascades: buildCascades(MARK, clusters, buildBook(), cascadeParams) }) });

  it('when a major long cluster 45 bps below would cascade, then a new long is rejected where it passes without the cascade', () => {
    const clusters = [clusterAt('long', 45, { notionalUsd: 1_000_000_000 })];
    expect(evaluatePretrade(contextWithClusters(clusters, { order: buildOrder({ quantity: 0.1 }) })).decision).toBe('APPROVE');
    const v = evaluatePretrade(withCascades(clusters));
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['NO_TRADE_BUFFER']);
    // 30 bps + 0.25 x the 99.05 bps move.
    expect(v.reasons[0]?.limit).toBeCloseTo(30 + 0.25 * 99.05, 2);
    expect(v.reasons[0]?.message).toContain('long cascade');
  });

  it('when both pass (the cluster 200 bps away), then the risk score is higher with the cascade (the buffer it is measured against is wider)', () => {
    const clusters = [clusterAt('long', 200, { notionalUsd: 1_000_000_000 })];
    const without = evaluatePretrade(contextWithClusters(clusters, { order: buildOrder({ quantity: 0.1 }) }));
    const withCascade = evaluatePretrade(withCascades(clusters));
    expect(withCascade.decision).toBe('APPROVE');
    expect(withCascade.riskScore).toBeGreaterThan(without.riskScore);
  });

  it('when the cascade runs the other way (a sell near the long cluster), then the buffer is not widened', () => {
    const clusters = [clusterAt('long', 45, { notionalUsd: 1_000_000_000 })];
    expect(evaluatePretrade(withCascades(clusters, buildOrder({ side: 'sell', quantity: 0.1 }))).decision).toBe('APPROVE');
  });

  it('when a nearer short cluster has no cascade and a farther long one has, then the long one binds the buffer of a buy', () => {
    const clusters = [clusterAt('long', 50, { notionalUsd: 1_000_000_000 }), clusterAt('short', 40, { notionalUsd: 1_000 })];
    const v = evaluatePretrade(withCascades(clusters));
    expect(codes(v)).toEqual(['NO_TRADE_BUFFER']);
    expect(v.reasons[0]?.message).toContain('major long cluster');
  });

  const cascadeOf = (moveBps: number): Cascades => ({
    depth: 'book',
    forcedShare: 0.05,
    depthFactor: 0.5,
    maxMoveBps: 1000,
    long: { triggerPrice: MARK, triggerDistanceBps: 0, moveBps, reachBps: moveBps, endPrice: MARK * (1 - moveBps / 1e4), forcedUsd: 1, chain: [], capped: false, depthExhausted: false },
    short: null,
  });

  it('for any distance and cascade move, a buy is stopped exactly when the distance is within 30 + min(60, 0.25 x move) bps', () => {
    fc.assert(
      fc.property(uniform(0, 200), uniform(0, 400), (d, move) => {
        const clusters = [clusterAt('long', d)];
        const v = evaluatePretrade(buildContext({ order: buildOrder({ quantity: 0.1 }), market: marketAt(NOW, { clusters, cascades: cascadeOf(move) }) }));
        const buffer = 30 + Math.min(60, 0.25 * move);
        if (Math.abs(d - buffer) < 1e-6) return;
        expect(codes(v).includes('NO_TRADE_BUFFER')).toBe(d < buffer);
      }),
      { numRuns: 300 },
    );
  });

  it('for any clusters, cascades and order, a map with cascades never lets through more than the same map without them', () => {
    const sideMove = fc.oneof(fc.constant(null), uniform(0, 1000));
    fc.assert(
      fc.property(
        fc.array(fc.record({ side: fc.constantFrom('long' as const, 'short' as const), d: uniform(0, 300), major: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        sideMove,
        sideMove,
        fc.constantFrom('buy' as const, 'sell' as const),
        uniform(0.01, 20),
        (specs, longMove, shortMove, side, quantity) => {
          const clusters = specs.map((c) => clusterAt(c.side, c.d, { major: c.major }));
          const at = (moveBps: number | null, s: 'long' | 'short') => (moveBps === null ? null : { ...cascadeOf(moveBps).long!, triggerPrice: s === 'long' ? MARK * 0.99 : MARK * 1.01 });
          const cascades: Cascades = { ...cascadeOf(0), long: at(longMove, 'long'), short: at(shortMove, 'short') };
          const order = buildOrder({ side, quantity });
          const without = evaluatePretrade(buildContext({ order, market: marketAt(NOW, { clusters }) }));
          const withCascades = evaluatePretrade(buildContext({ order, market: marketAt(NOW, { clusters, cascades }) }));
          expect(withCascades.approvedQuantity).toBeLessThanOrEqual(without.approvedQuantity);
          if (without.decision === 'REJECT') expect(withCascades.decision).toBe('REJECT');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('for any corrupt cascade block (NaN, infinite, negative or non-numeric moves, missing or non-object sides), the order never gets more than on the same map without cascades', () => {
    const badMove = fc.constantFrom<unknown>(NaN, Infinity, -Infinity, -1, -1e308, '50', null, undefined, {});
    const badSide = fc.oneof(
      badMove.map((moveBps) => ({ ...cascadeOf(0).long!, moveBps })),
      fc.constantFrom<unknown>(undefined, 'long', 42, [], true),
    );
    const block = fc.oneof(
      fc.record({ long: badSide, short: fc.oneof(badSide, fc.constant(null)) }).map((x) => ({ ...cascadeOf(0), ...x })),
      fc.record({ long: fc.constant(null), short: badSide }).map((x) => ({ ...cascadeOf(0), ...x })),
      fc.constantFrom<unknown>('cascades', 7, [], true),
    );
    fc.assert(
      fc.property(block, uniform(0, 300), fc.constantFrom('buy' as const, 'sell' as const), uniform(0.01, 20), (cascades, d, side, quantity) => {
        const clusters = [clusterAt('long', d), clusterAt('short', d)];
        const order = buildOrder({ side, quantity });
        const without = evaluatePretrade(buildContext({ order, market: marketAt(NOW, { clusters }) }));
        const corrupt = evaluatePretrade(buildContext({ order, market: marketAt(NOW, { clusters, cascades: cascades as Cascades }) }));
        expect(corrupt.approvedQuantity).toBeLessThanOrEqual(without.approvedQuantity);
        expect(corrupt.decision).toBe('REJECT');
      }),
      { numRuns: 300 },
    );
  });

  it('when the stored cascade is corrupt (a negative move), then the map is unusable and the order is rejected as stale data', () => {
    const bad = cascadeOf(-5);
    const v = evaluatePretrade(buildContext({ market: marketAt(NOW, { clusters: [clusterAt('long', 500)], cascades: bad }) }));
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['HEATMAP_STALE']);
  });
});
