import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHeatmapModel, notionalBetween, REALIZED_REACH_BPS, type HeatmapModel } from '../../../src/domain/heatmap/index.js';
import type { RealizedLiquidation } from '../../../src/domain/market-data.js';
import { buildBars, buildHandParams, buildParams, MIN_30, T0 } from './factories.js';

// Realized liquidations take the notional actually liquidated out of the model, near the
// price it was liquidated at.

/**
 * One venue, one 10x tier, nothing unlocated: a first bar with no open interest, then 1,000
 * USD opened at 100, half long (liquidating at 90.4), half short (at 109.6).
 */
function buildLocatedModel(): HeatmapModel {
  const model = createHeatmapModel('BTCUSDT', buildHandParams([10]));
  model.ingest('binanceusdm', buildBars([{ openInterestUsd: 0 }, { openInterestUsd: 1_000 }]));
  return model;
}
const LAST_BAR = T0 + MIN_30;
const LONG_LIQ = 100 * (1 - (0.1 - 0.004));
const SHORT_LIQ = 100 * (1 + (0.1 - 0.004));

function buildEvent(overrides: Partial<RealizedLiquidation> = {}): RealizedLiquidation {
  return { ts: LAST_BAR + 60_000, side: 'long', price: LONG_LIQ, usd: 200, venue: 'binanceusdm', ...overrides };
}

const near = (m: HeatmapModel, side: 'long' | 'short', price: number) => notionalBetween(m, side, price * 0.995, price * 1.005);
const all = (m: HeatmapModel, side: 'long' | 'short') => notionalBetween(m, side, 1, 1e9);

describe('realized liquidations in the heatmap model', () => {
  it('when a long liquidation is reported at the longs\' liquidation price, then that much long notional is gone there and nothing else moves', () => {
    const model = buildLocatedModel();
    expect(near(model, 'long', LONG_LIQ)).toBeCloseTo(500, 9);
    const before = model.build({ markPrice: 100, now: LAST_BAR });

    const done = model.applyLiquidations('binanceusdm', [buildEvent({ usd: 200 })]);

    expect(done).toMatchObject({ applied: 1, skipped: 0 });
    expect(done.locatedUsd).toBeCloseTo(200, 9);
    expect(near(model, 'long', LONG_LIQ)).toBeCloseTo(300, 9);
    expect(all(model, 'short')).toBeCloseTo(500, 9);
    const after = model.build({ markPrice: 100, now: LAST_BAR });
    const changed = after.bins.flatMap((b, k) => (b.longUsd !== before.bins[k]!.longUsd || b.shortUsd !== before.bins[k]!.shortUsd ? [b] : []));
    expect(changed).toHaveLength(1);
    expect(Math.abs(changed[0]!.price - LONG_LIQ) / LONG_LIQ).toBeLessThan(0.001);
    expect(changed[0]!.shortUsd).toBe(0);
  });

  it('when the event is larger than the notional near its price, then the side is emptied there and never goes below zero', () => {
    const model = buildLocatedModel();
    const done = model.applyLiquidations('binanceusdm', [buildEvent({ usd: 10_000 })]);
    expect(done.locatedUsd).toBeCloseTo(500, 9);
    expect(all(model, 'long')).toBeCloseTo(0, 9);
    expect(model.build({ markPrice: 100, now: LAST_BAR }).bins.every((b) => b.longUsd >= 0 && b.shortUsd >= 0)).toBe(true);
  });

  it('when a long fills below the longs\' liquidation price, within the reach, then it takes them (fills slip past the trigger)', () => {
    const model = buildLocatedModel();
    const done = model.applyLiquidations('binanceusdm', [buildEvent({ price: LONG_LIQ * (1 - (REALIZED_REACH_BPS - 5) / 1e4) })]);
    expect(done.locatedUsd).toBeCloseTo(200, 9);
  });

  it('when a long fills above the longs\' liquidation price, then they stay: the price never reached them', () => {
    const model = buildLocatedModel();
    const done = model.applyLiquidations('binanceusdm', [buildEvent({ price: LONG_LIQ * 1.002 })]);
    expect(done.locatedUsd).toBe(0);
    expect(all(model, 'long')).toBeCloseTo(500, 9);
    const short = model.applyLiquidations('binanceusdm', [buildEvent({ side: 'short', price: SHORT_LIQ * 0.998 })]);
    expect(short.locatedUsd).toBe(0);
  });

  it('when the event is further than the reach from any long notional, then nothing is taken', () => {
    const model = buildLocatedModel();
    const far = LONG_LIQ * (1 - (REALIZED_REACH_BPS + 5) / 1e4);
    const done = model.applyLiquidations('binanceusdm', [buildEvent({ price: far })]);
    expect(done).toMatchObject({ applied: 1, locatedUsd: 0, unlocatedUsd: 0 });
    expect(all(model, 'long')).toBeCloseTo(500, 9);
  });

  it('when a long liquidation is reported where only shorts liquidate, then the short notional there is untouched', () => {
    const model = buildLocatedModel();
    model.applyLiquidations('binanceusdm', [buildEvent({ side: 'long', price: SHORT_LIQ, usd: 400 })]);
    expect(near(model, 'short', SHORT_LIQ)).toBeCloseTo(500, 9);
    expect(all(model, 'long')).toBeCloseTo(500, 9);
  });

  it('when a short liquidation is reported at the shorts\' price, then only short notional goes', () => {
    const model = buildLocatedModel();
    model.applyLiquidations('binanceusdm', [buildEvent({ side: 'short', price: SHORT_LIQ, usd: 100 })]);
    expect(near(model, 'short', SHORT_LIQ)).toBeCloseTo(400, 9);
    expect(all(model, 'long')).toBeCloseTo(500, 9);
  });

  it('when an event is older than the venue\'s newest bar, or of a venue never ingested, then it is skipped (the bars since account for it)', () => {
    const model = buildLocatedModel();
    const old = model.applyLiquidations('binanceusdm', [buildEvent({ ts: LAST_BAR - 1 })]);
    const elsewhere = model.applyLiquidations('okx', [buildEvent()]);
    expect(old).toMatchObject({ applied: 0, skipped: 1 });
    expect(elsewhere).toMatchObject({ applied: 0, skipped: 1 });
    expect(all(model, 'long')).toBeCloseTo(500, 9);
  });

  it('when an event lies inside the newest bar, whose wick already swept that side, then it counts against the sweep before taking anything else', () => {
    const model = createHeatmapModel('BTCUSDT', buildHandParams([10]));
    // The third bar's low (90) reaches the longs at 90.4: the sweep removes their 500; OI follows.
    model.ingest('binanceusdm', buildBars([{ openInterestUsd: 0 }, { openInterestUsd: 1_000 }, { low: 90, openInterestUsd: 500 }]));
    expect(all(model, 'long')).toBeCloseTo(0, 6);
    const inBar = T0 + 2 * MIN_30 + 60_000;
    const first = model.applyLiquidations('binanceusdm', [buildEvent({ ts: inBar, price: 90.3, usd: 300 })]);
    expect(first).toMatchObject({ applied: 1, sweptUsd: 300, locatedUsd: 0, unlocatedUsd: 0 });
    const second = model.applyLiquidations('binanceusdm', [buildEvent({ ts: inBar + 1, price: 90.3, usd: 400 })]);
    expect(second.sweptUsd).toBeCloseTo(200, 4); // 500 swept, less a hair of age decay
    // After the bar (the one in progress): no sweep to count against.
    const live = model.applyLiquidations('binanceusdm', [buildEvent({ ts: T0 + 3 * MIN_30, side: 'short', price: SHORT_LIQ, usd: 100 })]);
    expect(live).toMatchObject({ sweptUsd: 0 });
    expect(live.locatedUsd).toBeCloseTo(100, 9);
  });

  it('when nothing is located near the event, then the rest comes off the unlocated pool, at most what the ladder places within reach', () => {
    // Legacy open interest only: 1,000 USD, half long, spread over 100 × (1 ± 3%) at each tier's distance.
    const model = createHeatmapModel('BTCUSDT', buildHandParams([10]));
    model.ingest('binanceusdm', buildBars([{ openInterestUsd: 1_000 }]));
    const within = notionalBetween(model, 'long', LONG_LIQ, LONG_LIQ * (1 + REALIZED_REACH_BPS / 1e4));
    expect(within).toBeGreaterThan(0);
    expect(within).toBeLessThan(500);

    const done = model.applyLiquidations('binanceusdm', [buildEvent({ ts: T0, usd: 10_000 })]);

    expect(done.locatedUsd).toBe(0);
    expect(done.unlocatedUsd).toBeCloseTo(within, 9);
    expect(all(model, 'long')).toBeCloseTo(500 - within, 9);
    expect(all(model, 'short')).toBeCloseTo(500, 9);
  });
});

describe('realized liquidations: a burst at one price', () => {
  it('when many events fill at the same price, then together they take from the unlocated pool no more than the ladder placed within their reach', () => {
    const model = createHeatmapModel('BTCUSDT', buildHandParams([10]));
    model.ingest('binanceusdm', buildBars([{ openInterestUsd: 1_000 }]));
    const within = notionalBetween(model, 'long', LONG_LIQ, LONG_LIQ * (1 + REALIZED_REACH_BPS / 1e4));
    const before = all(model, 'long');

    // In one batch and across polls: 100 events, each as large as everything near their price.
    const burst = Array.from({ length: 50 }, (_, i) => buildEvent({ ts: T0 + i, usd: 10_000 }));
    const first = model.applyLiquidations('binanceusdm', burst);
    const later = model.applyLiquidations('binanceusdm', Array.from({ length: 50 }, (_, i) => buildEvent({ ts: T0 + 100 + i, usd: 10_000 })));

    expect(first.unlocatedUsd + later.unlocatedUsd).toBeLessThanOrEqual(within * (1 + 1e-9));
    expect(all(model, 'long')).toBeGreaterThanOrEqual(before - within * (1 + 1e-9));
  });
});

describe('realized liquidations: properties', () => {
  const eventArb = fc.record({
    side: fc.constantFrom('long' as const, 'short' as const),
    price: fc.double({ min: 80, max: 120, noNaN: true }),
    usd: fc.double({ min: 0.01, max: 5_000, noNaN: true }),
    dt: fc.integer({ min: 0, max: MIN_30 }),
  });

  it('whatever the events, no bin gains, none goes below zero, an event takes no more than its USD, and a side is only taken from by its own events', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 12 }), (list) => {
        const model = createHeatmapModel('BTCUSDT', buildParams());
        const bars = buildBars(Array.from({ length: 30 }, (_, i) => ({ close: 100 + Math.sin(i / 3) * 2, high: 101 + Math.sin(i / 3) * 2, low: 99 + Math.sin(i / 3) * 2, openInterestUsd: 10_000 + 300 * i })));
        model.ingest('binanceusdm', bars);
        const last = bars[bars.length - 1]!.ts;
        const before = model.build({ markPrice: 100, now: last });
        const events = list.map((e) => ({ ts: last + e.dt, side: e.side, price: e.price, usd: e.usd }));
        const done = model.applyLiquidations('binanceusdm', events);
        const after = model.build({ markPrice: 100, now: last });
        const eps = 1e-9;
        for (let k = 0; k < after.bins.length; k++) {
          const a = after.bins[k]!;
          const b = before.bins[k]!;
          expect(a.longUsd).toBeGreaterThanOrEqual(0);
          expect(a.shortUsd).toBeGreaterThanOrEqual(0);
          expect(a.longUsd).toBeLessThanOrEqual(b.longUsd + eps * (1 + b.longUsd));
          expect(a.shortUsd).toBeLessThanOrEqual(b.shortUsd + eps * (1 + b.shortUsd));
          if (!events.some((e) => e.side === 'long')) expect(a.longUsd).toBeCloseTo(b.longUsd, 6);
          if (!events.some((e) => e.side === 'short')) expect(a.shortUsd).toBeCloseTo(b.shortUsd, 6);
        }
        const asked = events.reduce((s, e) => s + e.usd, 0);
        expect(done.locatedUsd + done.unlocatedUsd).toBeLessThanOrEqual(asked * (1 + 1e-9));
      }),
      { numRuns: 60 },
    );
  });
});
