import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import { NOW, SATURDAY_1130, WEEKDAY_2130, buildContext, buildHeatmap, buildMarket, buildOrder, clusterAt, contextWithClusters, uniform } from '../factories.js';
import type { MarketView } from '../../../../src/domain/pretrade/types.js';
import { codes, warningCodes } from '../verdicts.js';

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

describe('evaluatePretrade: heatmap confidence on size', () => {
  const withConfidence = (value: number | null) =>
    buildMarket({ confidence: value === null ? null : { value, unlocatedShare: 0.05, venueCoverage: 1, accuracy: value } });
  it.each([
    // factor = 0.5 + 0.5 x min(1, c / 0.8); cap = 1M x factor at mark 100k = 10 BTC x factor.
    { confidence: 0.9, approved: 9.5, factor: 1 },
    { confidence: 0.5, approved: 8.125, factor: 0.81 },
    { confidence: 0.2, approved: 6.25, factor: 0.63 },
    { confidence: null, approved: 5, factor: 0.5 },
  ])('when 9.5 BTC is asked on a map of confidence $confidence, then $approved BTC is approved', ({ confidence, approved, factor }) => {
    const v = evaluatePretrade(buildContext({ market: withConfidence(confidence), order: buildOrder({ quantity: 9.5 }) }));
    expect(v.approvedQuantity).toBeCloseTo(approved, 9);
    if (factor < 1) {
      expect(codes(v)).toEqual(['LOW_CONFIDENCE']);
      expect(v.reasons[0]).toMatchObject({ limit: factor, observed: confidence });
    } else {
      expect(v.decision).toBe('APPROVE');
    }
  });

  it('when a stored map claims a confidence above its own weakest part, then the gate sizes by that part', () => {
    // value 1 (full) beside an accuracy of 0.2: a corrupt or hand-edited snapshot; 0.2 gives factor 0.625.
    const market = buildMarket({ confidence: { value: 1, unlocatedShare: 0, venueCoverage: 1, accuracy: 0.2 } });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 9.5 }) }));
    expect(v.approvedQuantity).toBeCloseTo(6.25, 9);
    expect(v.reasons[0]).toMatchObject({ code: 'LOW_CONFIDENCE', observed: 0.2 });
  });

  it('for any confidence block (NaN, negative, above 1, missing parts), the order is never sized above what its weakest valid part allows', () => {
    const anyNumber = fc.oneof(uniform(0, 1), fc.constantFrom(NaN, -1, 1.5, Infinity, -Infinity, undefined));
    fc.assert(
      fc.property(anyNumber, anyNumber, anyNumber, anyNumber, (value, unlocatedShare, venueCoverage, accuracy) => {
        const confidence = { value, unlocatedShare, venueCoverage, accuracy } as unknown as NonNullable<MarketView['confidence']>;
        const inRange = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
        const parts = [value, unlocatedShare === undefined ? undefined : 1 - unlocatedShare, venueCoverage, accuracy];
        const weakest = parts.every(inRange) ? Math.min(...parts) : null;
        const order = buildOrder({ quantity: 9.5 });
        const v = evaluatePretrade(buildContext({ market: buildMarket({ confidence }), order }));
        const sane = evaluatePretrade(buildContext({ market: withConfidence(weakest), order }));
        expect(v.approvedQuantity).toBeLessThanOrEqual(sane.approvedQuantity + 1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('when the order fits under a low-confidence cap, then it passes with a LOW_CONFIDENCE warning', () => {
    const v = evaluatePretrade(buildContext({ market: withConfidence(0.3), order: buildOrder({ quantity: 1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(warningCodes(v)).toContain('LOW_CONFIDENCE');
  });
});
