import { describe, expect, it } from 'vitest';
import { createHeatmapModel, rebinHeatmap } from '../../../src/domain/heatmap/index.js';
import type { Heatmap, HeatmapBin } from '../../../src/domain/heatmap/index.js';
import { findClusters, scoreRisk } from '../../../src/domain/heatmap/ladder.js';
import { buildBars, buildHandParams, buildParams, MIN_30, T0 } from './factories.js';

const clusterRules = buildParams().cluster;
const riskRules = buildParams().risk;

/** A ladder of 21 bins at 10 bps around 100 with the given long/short notional per bin index. */
function buildBins(longs: Record<number, number>, shorts: Record<number, number> = {}): HeatmapBin[] {
  const bins = Array.from({ length: 21 }, (_, k) => ({
    price: 100 * (1 + ((k - 10) * 10) / 1e4),
    longUsd: longs[k] ?? 1,
    shortUsd: shorts[k] ?? 1,
    probability: 0,
  }));
  return bins;
}

describe('clusters', () => {
  it('when longs are dense in bins 2..4, then one long cluster spans them with its peak, share and negative distance', () => {
    const bins = buildBins({ 2: 40, 3: 100, 4: 40 });
    const total = bins.reduce((a, b) => a + b.longUsd + b.shortUsd, 0);
    const [c] = findClusters(bins, 100, 10, clusterRules).filter((x) => x.side === 'long');
    expect(c).toBeDefined();
    expect(c?.peakPrice).toBeCloseTo(99.3, 9);
    expect(c?.priceLow).toBeCloseTo(99.15, 9);
    expect(c?.priceHigh).toBeCloseTo(99.45, 9);
    expect(c?.notionalUsd).toBe(180);
    expect(c?.share).toBeCloseTo(180 / total, 12);
    // nearest edge 99.45 is 55 bps below the mark
    expect(c?.distanceBps).toBeCloseTo(-55, 9);
    expect(c?.major).toBe(true);
  });

  it('when the mark is inside a zone, then its distance is 0; above the mark, the distance is positive', () => {
    const inside = findClusters(buildBins({}, { 9: 50, 10: 80, 11: 50 }), 100, 10, clusterRules).find((c) => c.side === 'short');
    expect(inside?.distanceBps).toBe(0);
    const above = findClusters(buildBins({}, { 15: 80 }), 100, 10, clusterRules).find((c) => c.side === 'short');
    expect(above?.distanceBps).toBeCloseTo(45, 9);
  });

  it('when a dense zone holds a tiny share of the ladder, then it is a cluster but not a major one', () => {
    const bins = buildBins({ 5: 3 }, { 0: 500, 20: 500 });
    const c = findClusters(bins, 100, 10, clusterRules).find((x) => x.side === 'long');
    expect(c).toBeDefined();
    expect(c?.share).toBeLessThan(clusterRules.majorMinShare);
    expect(c?.major).toBe(false);
  });

  it('when the ladder is empty, then there are no clusters and the risk is 0', () => {
    const bins = buildBins({}).map((b) => ({ ...b, longUsd: 0, shortUsd: 0 }));
    const clusters = findClusters(bins, 100, 10, clusterRules);
    expect(clusters).toEqual([]);
    expect(scoreRisk(clusters, { side: 'neutral', strength: 0, fundingRate: 0, oiChangePct: 0 }, riskRules).score).toBe(0);
  });
});

describe('risk score', () => {
  const cluster = (distanceBps: number, side: 'long' | 'short' = 'long') => ({
    side,
    peakPrice: 99,
    priceLow: 98,
    priceHigh: 99,
    notionalUsd: 1_000,
    share: 0.3,
    distanceBps,
    major: true,
  });
  const neutral = { side: 'neutral' as const, strength: 0, fundingRate: 0.0001, oiChangePct: 0 };

  it('when the mark nears the largest cluster, then the score rises', () => {
    const far = scoreRisk([cluster(-400)], neutral, riskRules).score;
    const mid = scoreRisk([cluster(-100)], neutral, riskRules).score;
    const touching = scoreRisk([cluster(0)], neutral, riskRules).score;
    expect(far).toBeLessThan(mid);
    expect(mid).toBeLessThan(touching);
    expect(touching).toBe(100 * (1 - riskRules.crowdingBoost));
  });

  it('when the crowded side is the cluster side, then the score is higher, up to 100', () => {
    const crowdedLongs = { side: 'long' as const, strength: 1, fundingRate: 0.0005, oiChangePct: 0.1 };
    const r = scoreRisk([cluster(0)], crowdedLongs, riskRules);
    expect(r.score).toBe(100);
    expect(r.inputs.crowdingAlignment).toBe(1);
    expect(scoreRisk([cluster(0, 'short')], crowdedLongs, riskRules).score).toBe(75);
  });
});

describe('rebinHeatmap', () => {
  function buildHeatmap(): Heatmap {
    const model = createHeatmapModel('BTC', buildHandParams([5, 10, 25, 50, 100], { smoothingBps: 20 }));
    model.ingest('binance', buildBars([{ openInterestUsd: 0 }, { open: 100, high: 101, low: 99, close: 100, openInterestUsd: 1_000_000 }]));
    return model.build({ markPrice: 100, now: T0 + MIN_30, rangePct: 0.15, binBps: 10 });
  }
  const sum = (h: Heatmap) => h.bins.reduce((a, b) => a + b.longUsd + b.shortUsd, 0);

  it('when rebinned to 50 bps over the same range, then notional is conserved and probabilities sum to 1', () => {
    const h = buildHeatmap();
    const r = rebinHeatmap(h, { rangePct: 0.15, binBps: 50 });
    expect(r.binBps).toBe(50);
    expect(r.bins).toHaveLength(61);
    expect(sum(r)).toBeCloseTo(sum(h), 6);
    expect(r.bins.reduce((a, b) => a + b.probability, 0)).toBeCloseTo(1, 9);
    expect(r.totalLongUsd).toBe(h.totalLongUsd);
    expect(r.crowding).toEqual(h.crowding);
  });

  it('when narrowed to ±5%, then only notional within ±5% remains on the ladder', () => {
    const h = buildHeatmap();
    const r = rebinHeatmap(h, { rangePct: 0.05, binBps: 10 });
    const inside = h.bins.filter((b) => Math.abs(b.price - 100) <= 5.0001).reduce((a, b) => a + b.longUsd + b.shortUsd, 0);
    expect(sum(r)).toBeCloseTo(inside, 6);
    expect(r.bins.every((b) => Math.abs(b.price - 100) <= 5.0001)).toBe(true);
  });

  it('when rebinned or narrowed, then the clusters, their major flags and the risk score are those of the map as built', () => {
    const h = buildHeatmap();
    expect(h.clusters.some((c) => c.major)).toBe(true);
    // 10x cohorts sit ~9.6% from the mark: outside a ±5% view, yet still the map's zones.
    expect(h.clusters.some((c) => Math.abs(c.distanceBps) > 500)).toBe(true);
    for (const shape of [
      { rangePct: 0.05, binBps: 10 },
      { rangePct: 0.15, binBps: 50 },
      { rangePct: 0.02, binBps: 100 },
    ]) {
      const r = rebinHeatmap(h, shape);
      expect(r.clusters).toEqual(h.clusters);
      expect(r.risk).toEqual(h.risk);
      expect(r.volatility).toEqual(h.volatility);
      expect(r.funding).toEqual(h.funding);
    }
  });

  it('when asked for finer bins or a wider range than the heatmap has, then it throws RangeError', () => {
    const h = buildHeatmap();
    expect(() => rebinHeatmap(h, { rangePct: 0.15, binBps: 5 })).toThrow(RangeError);
    expect(() => rebinHeatmap(h, { rangePct: 0.2, binBps: 10 })).toThrow(RangeError);
    expect(() => rebinHeatmap(h, { rangePct: 0, binBps: 10 })).toThrow(RangeError);
  });
});
