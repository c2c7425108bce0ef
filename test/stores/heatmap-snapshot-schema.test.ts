import { describe, expect, it } from 'vitest';
import { checkStoredSnapshot } from '../../src/stores/heatmap-snapshot-schema.js';
import type { MarketSpec } from '../../src/domain/market-data.js';
import { buildHeatmap, buildSnapshot } from './heatmap-store.contract.js';
import type { Cascades } from '../../src/domain/heatmap/types.js';

const spec: MarketSpec = { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: 100 };
const stored = (overrides: Parameters<typeof buildSnapshot>[0]) => ({ ...buildSnapshot(overrides), version: 1 });

describe('stored snapshot schema', () => {
  it('when a snapshot has a spec, volatility and funding, then they pass validation unchanged', () => {
    const raw = stored({
      spec,
      heatmap: buildHeatmap({ volatility: { realizedBpsPerHour: 40, bars: 12 }, funding: { rate: 0.0001, percentile: 0.5, samples: 300 } }),
    });
    const r = checkStoredSnapshot(JSON.parse(JSON.stringify(raw)));
    expect(r).toEqual({ ok: true, snapshot: raw });
  });

  it('when a snapshot predates spec, volatility and funding, then it is still valid and they stay absent', () => {
    const r = checkStoredSnapshot(stored({}));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect('spec' in r.snapshot).toBe(false);
      expect(r.snapshot.heatmap.volatility).toBeUndefined();
      expect(r.snapshot.heatmap.funding).toBeUndefined();
    }
  });

  it.each([
    ['a zero tick', { ...spec, tickSize: 0 }, 'spec.tickSize'],
    ['a negative minimum quantity', { ...spec, minQuantity: -0.001 }, 'spec.minQuantity'],
    ['a step that JSON turned from NaN into a string', { ...spec, quantityStep: 'NaN' }, 'spec.quantityStep'],
    ['a missing field', { tickSize: 0.1 }, 'spec.quantityStep'],
  ])('when the spec has %s, then the snapshot is refused naming the field', (_, bad, path) => {
    const r = checkStoredSnapshot({ ...stored({}), spec: bad });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain(path);
  });

  it('when the funding percentile is outside 0..1 or the volatility negative, then the snapshot is refused', () => {
    const badFunding = stored({ heatmap: buildHeatmap({ funding: { rate: 0.0001, percentile: 1.5, samples: 300 } }) });
    const badVol = stored({ heatmap: buildHeatmap({ volatility: { realizedBpsPerHour: -1, bars: 12 } }) });
    expect(checkStoredSnapshot(badFunding)).toMatchObject({ ok: false, problem: expect.stringContaining('heatmap.funding.percentile') });
    expect(checkStoredSnapshot(badVol)).toMatchObject({ ok: false, problem: expect.stringContaining('heatmap.volatility.realizedBpsPerHour') });
  });

  const cascades: Cascades = {
    depth: 'book',
    forcedShare: 0.05,
    depthFactor: 0.5,
    maxMoveBps: 1000,
    long: {
      triggerPrice: 99_500,
      triggerDistanceBps: 50,
      moveBps: 30,
      reachBps: 79.85,
      endPrice: 99_201.5,
      forcedUsd: 20_000_000,
      chain: [{ peakPrice: 99_400, priceLow: 99_300, priceHigh: 99_500, notionalUsd: 20_000_000, major: true }],
      capped: false,
      depthExhausted: false,
    },
    short: null,
  };

  it('when a snapshot carries cascades, then they pass unchanged; one written before them stays valid without them', () => {
    const raw = stored({ heatmap: buildHeatmap({ cascades }) });
    expect(checkStoredSnapshot(JSON.parse(JSON.stringify(raw)))).toEqual({ ok: true, snapshot: raw });
    const old = checkStoredSnapshot(stored({}));
    expect(old.ok && old.snapshot.heatmap.cascades).toBeUndefined();
  });

  it('when a cascade move is negative or its side missing, then the snapshot is refused naming the field', () => {
    const negative = checkStoredSnapshot(stored({ heatmap: buildHeatmap({ cascades: { ...cascades, long: { ...cascades.long!, moveBps: -1 } } }) }));
    expect(negative.ok).toBe(false);
    if (!negative.ok) expect(negative.problem).toContain('heatmap.cascades.long.moveBps');
    const { short: _s, ...noShort } = cascades;
    const missing = checkStoredSnapshot(stored({ heatmap: { ...buildHeatmap(), cascades: noShort as Cascades } }));
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.problem).toContain('heatmap.cascades.short');
  });

  it('when a snapshot carries realized liquidations, then they pass unchanged; one written before them stays valid without the field', () => {
    const recentLiquidations = [
      { ts: 1_767_225_600_000, side: 'short' as const, price: 95_100, usd: 250_000, venue: 'binanceusdm' },
      { ts: 1_767_225_500_000, side: 'long' as const, price: 94_200.5, usd: 12_000 },
    ];
    const raw = stored({ recentLiquidations });
    expect(checkStoredSnapshot(JSON.parse(JSON.stringify(raw)))).toEqual({ ok: true, snapshot: raw });
    const old = checkStoredSnapshot(stored({}));
    expect(old.ok && 'recentLiquidations' in old.snapshot).toBe(false);
  });

  it.each([
    ['an order side instead of a position side', { side: 'sell' }, 'recentLiquidations.0.side'],
    ['a zero notional', { usd: 0 }, 'recentLiquidations.0.usd'],
    ['a price JSON turned to null', { price: null }, 'recentLiquidations.0.price'],
  ])('when a realized liquidation has %s, then the snapshot is refused naming the field', (_, bad, path) => {
    const r = checkStoredSnapshot({ ...stored({}), recentLiquidations: [{ ts: 1, side: 'long', price: 1, usd: 1, ...bad }] });
    expect(r).toMatchObject({ ok: false, problem: expect.stringContaining(path) });
  });

  it('when a snapshot carries the model health and confidence, then they pass unchanged; one written before them stays valid without them', () => {
    const health = { status: 'degraded' as const, sweptMass: 0.41, priceLevel: 0.04, events: 312, periods: 72, windowMs: 259_200_000 };
    const confidence = { value: 0.2, unlocatedShare: 0.05, venueCoverage: 1, accuracy: 0.2 };
    const raw = stored({ health, confidence, heatmap: buildHeatmap({ unlocatedUsd: 1e7 }) });
    expect(checkStoredSnapshot(JSON.parse(JSON.stringify(raw)))).toEqual({ ok: true, snapshot: raw });
    const old = checkStoredSnapshot(stored({}));
    expect(old.ok && ('health' in old.snapshot || 'confidence' in old.snapshot || 'unlocatedUsd' in old.snapshot.heatmap)).toBe(false);
  });

  it.each([
    ['a confidence above 1', { confidence: { value: 1.2, unlocatedShare: 0, venueCoverage: 1, accuracy: 1 } }, 'confidence.value'],
    ['a health status the service does not know', { health: { status: 'fine', sweptMass: null, priceLevel: null, events: 0, periods: 0, windowMs: 1 } }, 'health.status'],
  ])('when a snapshot has %s, then it is refused naming the field', (_, bad, path) => {
    const r = checkStoredSnapshot({ ...stored({}), ...bad });
    expect(r).toMatchObject({ ok: false, problem: expect.stringContaining(path) });
  });
});
