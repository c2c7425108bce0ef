import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHeatmapModel, type HeatmapParams } from '../../../src/domain/heatmap/index.js';
import type { Bar } from '../../../src/domain/market-data.js';
import { buildParams, MIN_30, T0 } from './factories.js';

/** One step of a random bar path: price move, wick sizes, OI change and side evidence. */
const stepArb = fc.record({
  move: fc.double({ min: -0.03, max: 0.03, noNaN: true }),
  upWick: fc.double({ min: 0, max: 0.02, noNaN: true }),
  downWick: fc.double({ min: 0, max: 0.02, noNaN: true }),
  oiChange: fc.double({ min: -0.05, max: 0.05, noNaN: true }),
  funding: fc.double({ min: -0.001, max: 0.001, noNaN: true }),
  takerBuy: fc.double({ min: 0, max: 100, noNaN: true }),
  takerSell: fc.double({ min: 0, max: 100, noNaN: true }),
});
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function buildPath(steps: Step[], startOi = 1_000_000): Bar[] {
  let price = 100;
  let oi = startOi;
  return steps.map((s, i) => {
    const open = price;
    const close = open * (1 + s.move);
    const high = Math.max(open, close) * (1 + s.upWick);
    const low = Math.min(open, close) * (1 - s.downWick);
    oi = Math.max(0, oi * (1 + s.oiChange));
    price = close;
    return { ts: T0 + i * MIN_30, open, high, low, close, openInterestUsd: oi, fundingRate: s.funding, takerBuyVolume: s.takerBuy, takerSellVolume: s.takerSell };
  });
}

const pathArb = fc.array(stepArb, { minLength: 2, maxLength: 60 });
const paramsArb = fc.record({
  turnoverPerHour: fc.constantFrom(0, 0.1, 1),
  entryRangeShare: fc.constantFrom(0, 0.5, 1),
  smoothingBps: fc.constantFrom(0, 20, 60),
});

describe('heatmap model properties', () => {
  it('when any bar path is ingested, then long + short mass equals the open interest accounted for', () => {
    fc.assert(
      fc.property(pathArb, paramsArb, (steps, over) => {
        const bars = buildPath(steps);
        const model = createHeatmapModel('BTC', buildParams(over));
        model.ingest('a', bars.slice(0, 20));
        model.ingest('b', bars);
        const last = bars[bars.length - 1]!;
        const h = model.build({ markPrice: last.close, now: last.ts });
        const oi = bars[Math.min(19, bars.length - 1)]!.openInterestUsd + last.openInterestUsd;
        expect(h.openInterestUsd).toBeCloseTo(oi, 3);
        expect(Math.abs(h.totalLongUsd + h.totalShortUsd - oi)).toBeLessThan(1e-6 * Math.max(1, oi));
        expect(h.totalLongUsd).toBeGreaterThanOrEqual(0);
        expect(h.totalShortUsd).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 100 },
    );
  });

  it('when the path has swept through cohorts, then no long mass sits above the last price and no short mass below it', () => {
    fc.assert(
      fc.property(pathArb, paramsArb, (steps, over) => {
        const bars = buildPath(steps);
        const model = createHeatmapModel('BTC', buildParams(over));
        model.ingest('a', bars);
        const last = bars[bars.length - 1]!;
        const h = model.build({ markPrice: last.close, now: last.ts });
        for (const b of h.bins) {
          if (b.price > last.close * (1 + 1e-12)) expect(b.longUsd).toBe(0);
          if (b.price < last.close * (1 - 1e-12)) expect(b.shortUsd).toBe(0);
        }
        expect(h.bins.reduce((a, b) => a + b.probability, 0)).toBeCloseTo(1, 9);
      }),
      { numRuns: 100 },
    );
  });

  it('when prices, candle direction, taker flow and funding are mirrored, then long and short outputs swap', () => {
    // Prices stay inside a band narrower than the closest liquidation distance (100x: 0.6%),
    // so no cohort is ever swept and the mirror is exact for the side totals.
    const bandArb = fc.array(
      fc.record({
        a: fc.double({ min: 0, max: 1, noNaN: true }),
        b: fc.double({ min: 0, max: 1, noNaN: true }),
        oiChange: fc.double({ min: -0.05, max: 0.05, noNaN: true }),
        funding: fc.double({ min: -0.001, max: 0.001, noNaN: true }),
        takerBuy: fc.double({ min: 0, max: 100, noNaN: true }),
        takerSell: fc.double({ min: 0, max: 100, noNaN: true }),
        ls: fc.double({ min: 0.2, max: 5, noNaN: true }),
      }),
      { minLength: 2, maxLength: 40 },
    );
    const params: HeatmapParams = buildParams({ split: { longShortRatioWeight: 1 } });
    const neutral = params.funding.neutral;
    fc.assert(
      fc.property(bandArb, (steps) => {
        let oi = 1_000_000;
        const lo = 100;
        const hi = 100.5;
        const orig: Bar[] = [];
        const mirror: Bar[] = [];
        const m = (p: number) => lo + hi - p;
        steps.forEach((s, i) => {
          const open = lo + (hi - lo) * s.a;
          const close = lo + (hi - lo) * s.b;
          oi *= 1 + s.oiChange;
          const common = { ts: T0 + i * MIN_30, openInterestUsd: oi };
          orig.push({ ...common, open, close, high: hi, low: lo, fundingRate: s.funding, takerBuyVolume: s.takerBuy, takerSellVolume: s.takerSell, longShortRatio: s.ls });
          mirror.push({ ...common, open: m(open), close: m(close), high: hi, low: lo, fundingRate: 2 * neutral - s.funding, takerBuyVolume: s.takerSell, takerSellVolume: s.takerBuy, longShortRatio: 1 / s.ls });
        });
        const a = createHeatmapModel('BTC', params);
        const b = createHeatmapModel('BTC', params);
        a.ingest('v', orig);
        b.ingest('v', mirror);
        const now = orig[orig.length - 1]!.ts;
        const ha = a.build({ markPrice: 100.25, now });
        const hb = b.build({ markPrice: 100.25, now });
        const tol = 1e-9 * oi;
        expect(Math.abs(ha.totalLongUsd - hb.totalShortUsd)).toBeLessThan(tol);
        expect(Math.abs(ha.totalShortUsd - hb.totalLongUsd)).toBeLessThan(tol);
        const flip = { long: 'short', short: 'long', neutral: 'neutral' } as const;
        expect(hb.crowding.side).toBe(flip[ha.crowding.side]);
        expect(hb.crowding.strength).toBeCloseTo(ha.crowding.strength, 9);
      }),
      { numRuns: 100 },
    );
  });

  it('when the same bars are ingested, in one batch or bar by bar, then the heatmaps are identical', () => {
    fc.assert(
      fc.property(pathArb, paramsArb, (steps, over) => {
        const bars = buildPath(steps);
        const params = buildParams(over);
        const batch = createHeatmapModel('BTC', params);
        const incremental = createHeatmapModel('BTC', params);
        const again = createHeatmapModel('BTC', params);
        batch.ingest('v', bars);
        again.ingest('v', bars);
        for (const bar of bars) incremental.ingest('v', [bar, bar]);
        const last = bars[bars.length - 1]!;
        const opts = { markPrice: last.close, now: last.ts };
        expect(incremental.build(opts)).toEqual(batch.build(opts));
        expect(again.build(opts)).toEqual(batch.build(opts));
      }),
      { numRuns: 60 },
    );
  });
});
