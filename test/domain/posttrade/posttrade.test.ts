import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeExit, analyzeFill, realizedSlippageBps, type AnalysisInput, type Fill, type FillAnalysis } from '../../../src/domain/posttrade/analyze.js';
import { bootstrapMedianInterval, buildReport, proposeTimeOfDay } from '../../../src/domain/posttrade/report.js';
import { computeFacts } from '../../../src/domain/pretrade/facts.js';
import { median } from '../../../src/lib/math.js';
import { buildContext, buildHeatmap, buildOrder, buildPolicy, cascadeMoves, clusterAt, FULL_CONFIDENCE, MARK, marketAt, uniform } from '../pretrade/factories.js';

const T = Date.UTC(2026, 10, 24, 11, 30);
const W = 15 * 60_000;

function buildFill(overrides: Partial<Fill> = {}): Fill {
  return { fillId: 'f-1', decisionId: null, accountId: 'acct', symbol: 'BTCUSDT', side: 'sell', quantity: 1, price: MARK, ts: T, fee: null, reducesPosition: true, ...overrides };
}

function input(overrides: Partial<AnalysisInput> = {}): AnalysisInput {
  // A calm map at 11:30 on a weekday, fully trusted: the default policy's buffer is its base 30 bps.
  return { fill: buildFill(), decision: null, heatmap: buildHeatmap(), confidence: 1, referencePrice: MARK, path: [], windowMs: W, policy: buildPolicy(), ...overrides };
}

function buildAnalysis(overrides: Partial<FillAnalysis> = {}): FillAnalysis {
  return {
    fillId: 'f', decisionId: null, decisionFound: false, accountId: 'a', symbol: 'BTCUSDT', side: 'buy', ts: T, hourUtc: 11, notionalUsd: 1e5,
    realizedSlippageBps: 2, expectedSlippageBps: 1, inClusterZone: false, inBuffer: false, distanceToMajorBps: 500, exit: null, ...overrides,
  };
}

describe('post-trade analysis of one fill', () => {
  it('when a buy fills above the reference or a sell below it, then slippage is positive (adverse), and favourable fills are negative', () => {
    expect(realizedSlippageBps('buy', 100_010, 100_000)).toBeCloseTo(1, 9);
    expect(realizedSlippageBps('sell', 99_990, 100_000)).toBeCloseTo(1, 9);
    expect(realizedSlippageBps('buy', 99_990, 100_000)).toBeCloseTo(-1, 9);
  });

  it('when the fill price sits inside a zone, then it is in a cluster zone and 0 bps from the major zone', () => {
    const zone = clusterAt('long', 100); // 99,000 .. 98,800
    const a = analyzeFill(input({ fill: buildFill({ price: 98_900 }), heatmap: buildHeatmap({ clusters: [zone] }) }));
    expect(a.inClusterZone).toBe(true);
    expect(a.distanceToMajorBps).toBe(0);
    expect(a.inBuffer).toBe(true);
  });

  it('when the fill is 50 bps from the nearest major zone and the buffer is 30, then it is outside the buffer', () => {
    const a = analyzeFill(input({ heatmap: buildHeatmap({ clusters: [clusterAt('long', 50), clusterAt('short', 400)] }) }));
    expect(a.distanceToMajorBps).toBeCloseTo(50, 6);
    expect(a.inBuffer).toBe(false);
    expect(a.inClusterZone).toBe(false);
  });

  it('when the map has a long cascade, then a buy filled inside the buffer it widens (but outside the base 30 bps) is inside the buffer, as the gate would have it', () => {
    // 30 bps base + 0.25 x the 160 bps move = 70 bps against the long zones, for a buy.
    const clusters = [clusterAt('long', 50)];
    const buy = buildFill({ side: 'buy', price: MARK });
    const widened = analyzeFill(input({ fill: buy, heatmap: buildHeatmap({ clusters, cascades: cascadeMoves({ long: 160 }) }) }));
    expect(widened.distanceToMajorBps).toBeCloseTo(50, 6);
    expect(widened.inBuffer).toBe(true);
    expect(analyzeFill(input({ fill: buy, heatmap: buildHeatmap({ clusters }) })).inBuffer).toBe(false);
    // The long cascade runs against buys only: a sell there keeps the base buffer.
    expect(analyzeFill(input({ fill: buildFill({ side: 'sell', price: MARK }), heatmap: buildHeatmap({ clusters, cascades: cascadeMoves({ long: 160 }) }) })).inBuffer).toBe(false);
  });

  it('when the map\'s confidence is low or unknown, then the buffer widens by the gate\'s confidence factor', () => {
    // Default policy: factor 0.5 at confidence 0 up to 1 at 0.8; 0.4 gives 0.75, so 40 bps; unknown gives 0.5, so 60 bps.
    const heatmap = buildHeatmap({ clusters: [clusterAt('long', 35)] });
    expect(analyzeFill(input({ heatmap, confidence: 1 })).inBuffer).toBe(false);
    expect(analyzeFill(input({ heatmap, confidence: 0.4 })).inBuffer).toBe(true);
    const far = buildHeatmap({ clusters: [clusterAt('long', 55)] });
    expect(analyzeFill(input({ heatmap: far, confidence: 0.4 })).inBuffer).toBe(false);
    expect(analyzeFill(input({ heatmap: far, confidence: null })).inBuffer).toBe(true);
  });

  it('when the policy looks at the adverse side only, then a zone on the other side puts no fill inside the buffer (the gate ignores it too)', () => {
    const heatmap = buildHeatmap({ clusters: [clusterAt('short', 10)] });
    const buy = buildFill({ side: 'buy', price: MARK });
    expect(analyzeFill(input({ fill: buy, heatmap, policy: buildPolicy({ clusterSides: 'adverse' }) })).inBuffer).toBe(false);
    expect(analyzeFill(input({ fill: buy, heatmap })).inBuffer).toBe(true);
  });

  it('for any zones, cascades, confidence, hour and side, a fill at the mark is inside the buffer exactly when the gate finds a market order there inside it', () => {
    const zone = fc.record({ side: fc.constantFrom('long' as const, 'short' as const), d: uniform(0, 200), major: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(zone, { minLength: 1, maxLength: 4 }),
        fc.option(uniform(0, 400), { nil: undefined }),
        fc.option(uniform(0, 400), { nil: undefined }),
        fc.option(uniform(0, 1), { nil: null }),
        fc.constantFrom('buy' as const, 'sell' as const),
        fc.constantFrom('any' as const, 'adverse' as const),
        fc.integer({ min: 0, max: 23 }),
        (zones, longMove, shortMove, confidence, side, clusterSides, hour) => {
          const now = Date.UTC(2026, 10, 24, hour, 30);
          const clusters = zones.map((z) => clusterAt(z.side, z.d, { major: z.major }));
          const cascades = cascadeMoves({ ...(longMove === undefined ? {} : { long: longMove }), ...(shortMove === undefined ? {} : { short: shortMove }) });
          const policy = buildPolicy({ clusterSides });
          const market = marketAt(now, { clusters, cascades }, { orderBook: null, confidence: confidence === null ? undefined : { ...FULL_CONFIDENCE, value: confidence } });
          const gate = computeFacts(buildContext({ now, market, policy, order: buildOrder({ side, quantity: 0.01 }) }));
          const post = analyzeFill(input({ fill: buildFill({ side, price: MARK, ts: now }), heatmap: market.heatmap, confidence, policy }));
          expect(gate.m).not.toBeNull();
          expect(post.inBuffer).toBe(gate.m!.inBuffer);
        },
      ),
    );
  });

  it('when no heatmap was kept for the fill time, then zone facts are unknown (null), not "outside"', () => {
    const a = analyzeFill(input({ heatmap: null }));
    expect([a.inClusterZone, a.inBuffer, a.distanceToMajorBps]).toEqual([null, null, null]);
  });

  it('when a fill opens a position, then it gets no exit analysis; when the engine does not say, the decision\'s reduceOnly decides', () => {
    expect(analyzeFill(input({ fill: buildFill({ reducesPosition: false }) })).exit).toBeNull();
    const viaDecision = analyzeFill(input({ fill: buildFill({ reducesPosition: null }), decision: { decision: 'APPROVE', expectedSlippageBps: 1, reduceOnly: true, evaluatedAt: T } }));
    expect(viaDecision.exit).not.toBeNull();
    expect(viaDecision.expectedSlippageBps).toBe(1);
  });
});

describe('exit: was it hit by cluster-driven volatility', () => {
  const zone = clusterAt('long', 100); // 98,800..99,000 below a 100,000 mark

  it('when price traded down through a major zone within the window and came back, then the exit is cluster-affected with the move and the share reverted', () => {
    const path = [
      { ts: T - 60_000, price: 100_000 },
      { ts: T + 60_000, price: 98_900 },
      { ts: T + 120_000, price: 98_000 },
      { ts: T + W, price: 99_500 },
    ];
    const e = analyzeExit(100_000, T, path, W, [zone]);
    expect(e.clusterAffected).toBe(true);
    expect(e.moveBps).toBeCloseTo(-200, 6);
    expect(e.revertedShare).toBeCloseTo(0.75, 9); // 1,500 of the 2,000 down
    expect(e.pathPoints).toBe(4);
  });

  it('when price stayed above the zone, or touched it only outside the window, then the exit is not cluster-affected', () => {
    const calm = [{ ts: T + 60_000, price: 99_500 }, { ts: T + W + 60_000, price: 98_900 }, { ts: T - W - 1, price: 98_000 }];
    expect(analyzeExit(100_000, T, calm, W, [zone]).clusterAffected).toBe(false);
  });

  it('when a non-major zone is crossed, then it does not count', () => {
    expect(analyzeExit(100_000, T, [{ ts: T + 1, price: 98_900 }], W, []).clusterAffected).toBe(false);
  });

  it('when the path has no point after the fill, then the reverted share is unknown', () => {
    expect(analyzeExit(100_000, T, [{ ts: T - 1_000, price: 98_900 }], W, [zone]).revertedShare).toBeNull();
  });
});

describe('report and calibration', () => {
  it('when fills are inside and outside zones, then slippage is reported separately with n, and exits give the cluster-affected share', () => {
    const analyses = [
      buildAnalysis({ inClusterZone: true, realizedSlippageBps: 8 }),
      buildAnalysis({ inClusterZone: true, realizedSlippageBps: 4 }),
      buildAnalysis({ inClusterZone: false, realizedSlippageBps: 1 }),
      buildAnalysis({ inClusterZone: null, realizedSlippageBps: 1 }),
      buildAnalysis({ exit: { clusterAffected: true, moveBps: -100, revertedShare: 0.5, pathPoints: 3 } }),
      buildAnalysis({ exit: { clusterAffected: false, moveBps: 10, revertedShare: null, pathPoints: 3 } }),
    ];
    const r = buildReport(analyses);
    expect(r.fills).toBe(6);
    expect(r.slippage.insideZones).toEqual({ n: 2, meanBps: 6, medianBps: 6 });
    expect(r.slippage.outsideZones.n).toBe(3);
    expect(r.slippage.zoneUnknown).toBe(1);
    expect(r.exits).toEqual({ n: 2, clusterAffected: 1, clusterAffectedShare: 0.5, meanRevertedShareWhenAffected: 0.5 });
    expect(r.byHourUtc).toEqual([{ hourUtc: 11, n: 6, predictedMeanBps: 1, realizedMeanBps: expect.any(Number) as number, realizedOverPredictedMedian: 2 }]);
  });

  it('when fills at 21:00 UTC slipped twice what was predicted, then the proposal halves that hour\'s depth multiplier, with an interval and n', () => {
    const hourly = Array.from({ length: 24 }, () => 1);
    hourly[21] = 0.6;
    const at21 = Array.from({ length: 40 }, (_, i) => buildAnalysis({ hourUtc: 21, expectedSlippageBps: 2, realizedSlippageBps: 4 + (i % 5) * 0.01 - 0.02 }));
    const [p] = proposeTimeOfDay(at21, hourly, 20);
    expect(p).toMatchObject({ hourUtc: 21, n: 40, currentMultiplier: 0.6 });
    expect(p!.proposedMultiplier!).toBeCloseTo(0.3, 2);
    expect(p!.proposedInterval![0]).toBeLessThanOrEqual(p!.proposedMultiplier!);
    expect(p!.proposedInterval![1]).toBeGreaterThanOrEqual(p!.proposedMultiplier!);
  });

  it('when an hour has fewer fills than the minimum, then nothing is proposed for it and the note says why', () => {
    const [p] = proposeTimeOfDay([buildAnalysis({ hourUtc: 3 })], Array(24).fill(1) as number[], 20);
    expect(p).toMatchObject({ hourUtc: 3, n: 1, proposedMultiplier: null });
    expect(p!.note).toContain('too few fills');
  });

  it('when predictions are below half a bps, then they form no ratio (no division by noise)', () => {
    expect(proposeTimeOfDay([buildAnalysis({ expectedSlippageBps: 0.1 })], Array(24).fill(1) as number[], 1)).toEqual([]);
  });

  it('when the same data is bootstrapped twice, then the interval is the same, and it holds the median', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const a = bootstrapMedianInterval(xs)!;
    expect(bootstrapMedianInterval(xs)).toEqual(a);
    expect(a[0]).toBeLessThanOrEqual(median(xs)!);
    expect(a[1]).toBeGreaterThanOrEqual(median(xs)!);
  });
});
