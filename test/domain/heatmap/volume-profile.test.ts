import { describe, expect, it } from 'vitest';
import { createHeatmapModel, notionalBetween } from '../../../src/domain/heatmap/index.js';
import { VolumeProfile } from '../../../src/domain/heatmap/volume-profile.js';
import { buildBars, buildHandParams } from './factories.js';

const STEP = 0.001; // 10 bps buckets
const ln = Math.log;

describe('VolumeProfile', () => {
  it('when one bar\'s volume is spread over its range, then the whole buckets inside it weigh the same and the shares sum to 1', () => {
    const p = new VolumeProfile(STEP);
    p.add(ln(100), ln(101), 10);
    const pieces = p.pieces(ln(100), ln(101));
    expect(pieces.reduce((a, x) => a + x.share, 0)).toBeCloseTo(1, 12);
    const inner = pieces.slice(1, -1);
    expect(inner.length).toBeGreaterThan(5);
    for (const x of inner) expect(x.share).toBeCloseTo(inner[0]?.share ?? NaN, 12);
  });

  it('when volume concentrated at one price, then the pieces of a wider range weigh that price most', () => {
    const p = new VolumeProfile(STEP);
    p.add(ln(98), ln(102), 1);
    p.add(ln(100), ln(100.05), 100);
    const pieces = p.pieces(ln(98), ln(102));
    const best = pieces.reduce((a, x) => (x.share > a.share ? x : a));
    expect(Math.exp(best.lnLow)).toBeLessThanOrEqual(100.05);
    expect(Math.exp(best.lnHigh)).toBeGreaterThanOrEqual(100);
    expect(best.share).toBeGreaterThan(0.5);
  });

  it('when the profile decays by half, then older volume counts half against newer', () => {
    const p = new VolumeProfile(STEP);
    p.add(ln(100), ln(100.05), 1);
    p.decay(0.5);
    p.add(ln(101), ln(101.05), 1);
    const pieces = p.pieces(ln(99.9), ln(101.1));
    const at = (price: number) => pieces.filter((x) => Math.exp(x.lnLow) <= price + 0.1 && Math.exp(x.lnHigh) >= price).reduce((a, x) => a + x.share, 0);
    expect(at(101)).toBeCloseTo(2 * at(100), 9);
  });

  it('when the range holds no volume, then there are no pieces (entries stay uniform)', () => {
    const p = new VolumeProfile(STEP);
    p.add(ln(100), ln(101), 1);
    expect(p.pieces(ln(110), ln(111))).toEqual([]);
  });
});

describe('entries by the volume profile (entryProfile.share)', () => {
  // Ten quiet bars trading 99.95–100.05 on heavy volume, then one wide bar 98–102 that adds 1,000 USD of OI.
  const bars = buildBars([
    ...Array.from({ length: 10 }, () => ({ open: 100, high: 100.05, low: 99.95, close: 100, volume: 1_000, openInterestUsd: 0 })),
    { open: 100, high: 102, low: 98, close: 101.9, volume: 10, openInterestUsd: 1_000 },
  ]);
  const at10x = (entry: number) => entry * (1 - 1 / 10 + 0.004);
  const near = (x: number): [number, number] => [x - 0.05, x + 0.05];

  it('when entries follow the profile, then the long cohorts of the wide bar bunch below the price that traded, not evenly over its range', () => {
    const uniform = createHeatmapModel('BTC', buildHandParams([10], { entryRangeShare: 1 }));
    const profiled = createHeatmapModel('BTC', buildHandParams([10], { entryRangeShare: 1, entryProfile: { share: 1, bucketBps: 5 } }));
    uniform.ingest('v', bars);
    profiled.ingest('v', bars);
    const hot = at10x(100);
    const cold = at10x(98.5);
    expect(notionalBetween(uniform, 'long', ...near(hot))).toBeCloseTo(notionalBetween(uniform, 'long', ...near(cold)), 1);
    expect(notionalBetween(profiled, 'long', ...near(hot))).toBeGreaterThan(10 * notionalBetween(profiled, 'long', ...near(cold)));
    // The profile moves entries, it does not create or lose any.
    expect(notionalBetween(profiled, 'long', 0, 1e9)).toBeCloseTo(notionalBetween(uniform, 'long', 0, 1e9), 6);
  });
});
