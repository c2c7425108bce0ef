import { describe, expect, it } from 'vitest';
import { evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import { MAX_AGE_MS, NOW, buildBook, buildContext, buildHeatmap, buildMarket, buildOrder, buildPolicy, clusterAt } from '../factories.js';
import { codes, viaJson, warningCodes } from '../verdicts.js';

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
