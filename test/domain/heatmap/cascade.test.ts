import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCascades, walkCascade } from '../../../src/domain/heatmap/cascade.js';
import { createHeatmapModel } from '../../../src/domain/heatmap/index.js';
import { HeatmapParamsSchema } from '../../../src/domain/heatmap/params.js';
import { scoreRisk } from '../../../src/domain/heatmap/ladder.js';
import type { Cascades, CascadeSide, Cluster } from '../../../src/domain/heatmap/types.js';
import type { OrderBook } from '../../../src/domain/market-data.js';
import { MARK, buildBook, clusterAt, uniform } from '../pretrade/factories.js';
import { buildBars, buildParams, MIN_30, T0 } from './factories.js';

const params = (overrides: Record<string, unknown> = {}) => HeatmapParamsSchema.parse({ cascade: overrides }).cascade;
/** Every position of a reached cluster forced (not the default 5%): the walks below are computed by hand. */
const allForced = (overrides: Record<string, unknown> = {}) => params({ forcedShare: 1, ...overrides });

/** 1 bps between levels (10 at 100,000), `size` BTC on each: size x 100,000 USD per bps of displayed depth. */
const bookOf = (size: number, levels = 200): OrderBook => buildBook({ size, levels });

const numbersOf = (c: CascadeSide): number[] => [c.triggerPrice, c.triggerDistanceBps, c.moveBps, c.reachBps, c.endPrice, c.forcedUsd];

describe('walkCascade', () => {
  it('when one major long cluster meets a deep book, then its forced sells move the price a few bps and chain into nothing', () => {
    const first = clusterAt('long', 50, { notionalUsd: 20_000_000 });
    const next = clusterAt('long', 300, { notionalUsd: 30_000_000 });
    const c = walkCascade('long', MARK, [next, first], bookOf(100), allForced());
    // 20M USD = 200 BTC into bids of 100 BTC thinned to 50: four levels, the last at mid − 30.5.
    expect(c).not.toBeNull();
    expect(c!.triggerPrice).toBeCloseTo(first.priceHigh, 9);
    expect(c!.triggerDistanceBps).toBeCloseTo(50, 9);
    expect(c!.moveBps).toBeCloseTo(3.05, 9);
    expect(c!.reachBps).toBeCloseTo(50 + 3.05 * (first.priceHigh / MARK), 6);
    expect(c!.forcedUsd).toBe(20_000_000);
    expect(c!.chain.map((l) => l.peakPrice)).toEqual([first.peakPrice]);
    expect(c!.capped).toBe(false);
    expect(c!.depthExhausted).toBe(false);
  });

  it('when the book is thin, then the move reaches the next long cluster, whose notional adds and carries the walk past it', () => {
    const first = clusterAt('long', 50, { notionalUsd: 20_000_000 });
    const next = clusterAt('long', 300, { notionalUsd: 10_000_000 });
    // 1 BTC a level thinned to 0.5: 10M USD of visible bids down to mid − 1,990.5 (199.05 bps).
    const c = walkCascade('long', MARK, [first, next], bookOf(1), allForced());
    expect(c!.chain.map((l) => l.peakPrice)).toEqual([first.peakPrice, next.peakPrice]);
    expect(c!.forcedUsd).toBe(30_000_000);
    expect(c!.depthExhausted).toBe(true);
    // Past the visible book at its average depth: 199.05 bps x 30M / 10M.
    expect(c!.moveBps).toBeCloseTo(199.05 * 3, 6);
    expect(c!.reachBps).toBeGreaterThan(300);
  });

  it('when the move would pass the cap, then it stops at maxMoveBps and says so', () => {
    const c = walkCascade('long', MARK, [clusterAt('long', 50, { notionalUsd: 200_000_000 })], bookOf(1), allForced({ maxMoveBps: 400 }));
    expect(c!.moveBps).toBe(400);
    expect(c!.capped).toBe(true);
  });

  it('when a short cluster sits above the mark, then its forced buys walk the asks upward (the mirror of the long walk)', () => {
    const c = walkCascade('short', MARK, [clusterAt('short', 50, { notionalUsd: 20_000_000 })], bookOf(100), allForced());
    expect(c!.triggerPrice).toBeGreaterThan(MARK);
    expect(c!.moveBps).toBeCloseTo(3.05, 9);
    expect(c!.endPrice).toBeGreaterThan(c!.triggerPrice);
  });

  it('when the side has only non-major clusters, then it has no cascade (null); a non-major one on the way still adds', () => {
    expect(walkCascade('long', MARK, [clusterAt('long', 50, { major: false })], bookOf(100), allForced())).toBeNull();
    const minorOnTheWay = clusterAt('long', 20, { major: false, notionalUsd: 5_000_000 });
    const c = walkCascade('long', MARK, [clusterAt('long', 50, { notionalUsd: 20_000_000 }), minorOnTheWay], bookOf(100), allForced());
    expect(c!.forcedUsd).toBe(25_000_000);
    expect(c!.chain[0]?.major).toBe(false);
  });

  it('when only the default 5% of a cluster is forced, then the walk runs that share (and reports it as forcedUsd)', () => {
    const c = walkCascade('long', MARK, [clusterAt('long', 50, { notionalUsd: 400_000_000 })], bookOf(100), params());
    // 5% of 400M = 20M: the same walk as the deep-book case above.
    expect(c!.forcedUsd).toBeCloseTo(20_000_000, 6);
    expect(c!.moveBps).toBeCloseTo(3.05, 9);
    expect(c!.chain[0]?.notionalUsd).toBe(400_000_000);
  });

  it('when the mark is inside the major zone, then the trigger is the mark (distance 0)', () => {
    const c = walkCascade('long', MARK, [clusterAt('long', 0)], bookOf(100), allForced());
    expect(c!.triggerPrice).toBe(MARK);
    expect(c!.triggerDistanceBps).toBe(0);
  });
});

describe('buildCascades', () => {
  it('when there is no usable book (none, or crossed), then depth is none and every walk runs to the cap', () => {
    const clusters = [clusterAt('long', 50), clusterAt('short', 80)];
    const crossed: OrderBook = { ts: 0, bids: [{ price: 101, size: 1 }], asks: [{ price: 100, size: 1 }] };
    for (const book of [null, crossed]) {
      const c = buildCascades(MARK, clusters, book, params());
      expect(c.depth).toBe('none');
      expect(c.long).toMatchObject({ moveBps: 1000, capped: true, depthExhausted: true });
      expect(c.short).toMatchObject({ moveBps: 1000, capped: true });
    }
  });

  it('when the book is usable, then both sides are walked through it', () => {
    const c = buildCascades(MARK, [clusterAt('long', 50), clusterAt('short', 80, { major: false })], bookOf(100), params());
    expect(c.depth).toBe('book');
    expect(c.long).not.toBeNull();
    expect(c.short).toBeNull();
  });
});

describe('walkCascade properties', () => {
  const clusterArb = fc
    .record({
      side: fc.constantFrom('long' as const, 'short' as const),
      distanceBps: uniform(0, 900),
      widthBps: uniform(0, 60),
      notionalUsd: fc.oneof(fc.constant(0), uniform(0, 200_000_000)),
      major: fc.boolean(),
    })
    .map(({ side, distanceBps, widthBps, notionalUsd, major }): Cluster => clusterAt(side, distanceBps, { notionalUsd, major }, MARK, widthBps));
  const bookArb = fc.oneof(
    fc.constant(null),
    fc.constant<OrderBook>({ ts: 0, bids: [], asks: [] }),
    fc.record({ size: uniform(0.001, 200), levels: fc.integer({ min: 1, max: 300 }) }).map(({ size, levels }) => bookOf(size, levels)),
  );

  it('for any clusters and book (empty, missing, zero notional included), every number is finite and never negative', () => {
    fc.assert(
      fc.property(fc.array(clusterArb, { maxLength: 8 }), bookArb, uniform(0.01, 1), (clusters, book, depthFactor) => {
        const c = buildCascades(MARK, clusters, book, params({ depthFactor }));
        for (const side of [c.long, c.short]) {
          if (side === null) continue;
          for (const x of numbersOf(side)) {
            expect(Number.isFinite(x)).toBe(true);
            expect(x).toBeGreaterThanOrEqual(0);
          }
          expect(side.moveBps).toBeLessThanOrEqual(1000);
          expect(side.forcedUsd).toBeCloseTo(side.chain.reduce((a, l) => a + l.notionalUsd, 0) * 0.05, 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('for any clusters and book, thinning the book more never shortens the reach nor lowers the forced notional', () => {
    fc.assert(
      fc.property(fc.array(clusterArb, { minLength: 1, maxLength: 8 }), bookArb, uniform(0.01, 1), uniform(0.01, 1), (clusters, book, a, b) => {
        const [thin, thick] = a <= b ? [a, b] : [b, a];
        for (const side of ['long', 'short'] as const) {
          const t = walkCascade(side, MARK, clusters, book, params({ depthFactor: thin }));
          const k = walkCascade(side, MARK, clusters, book, params({ depthFactor: thick }));
          if (t === null || k === null) {
            expect(t).toBe(k);
            continue;
          }
          expect(t.reachBps).toBeGreaterThanOrEqual(k.reachBps - 1e-9);
          expect(t.forcedUsd).toBeGreaterThanOrEqual(k.forcedUsd);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('scoreRisk with cascades', () => {
  const risk = HeatmapParamsSchema.parse({}).risk;
  const crowding = { side: 'neutral' as const, strength: 0, fundingRate: 0.0001, oiChangePct: 0 };
  const cascadeOf = (moveBps: number): Cascades => ({
    depth: 'book',
    forcedShare: 0.05,
    depthFactor: 0.5,
    maxMoveBps: 1000,
    long: { triggerPrice: 99_500, triggerDistanceBps: 50, moveBps, reachBps: 50 + moveBps, endPrice: 99_500 * (1 - moveBps / 1e4), forcedUsd: 1, chain: [], capped: false, depthExhausted: false },
    short: null,
  });

  it('when the largest cluster cascades further, then the score rises (x 1 + boost x min(1, move / scale)), and without cascades it is as before', () => {
    const clusters = [clusterAt('long', 200, { notionalUsd: 50_000_000 })];
    const plain = scoreRisk(clusters, crowding, risk);
    const short = scoreRisk(clusters, crowding, risk, cascadeOf(10));
    const far = scoreRisk(clusters, crowding, risk, cascadeOf(400));
    expect(plain.inputs.cascadeSeverity).toBeUndefined();
    expect(short.score).toBeGreaterThan(plain.score);
    expect(far.score).toBeGreaterThan(short.score);
    expect(far.score).toBeCloseTo(Math.min(100, plain.score * 1.5), 1);
    expect(far.inputs).toMatchObject({ cascadeMoveBps: 400, cascadeSeverity: 1 });
  });

  it('when the cascade is on the other side than the largest cluster, then it does not raise the score', () => {
    const clusters = [clusterAt('short', 200, { notionalUsd: 50_000_000 })];
    expect(scoreRisk(clusters, crowding, risk, cascadeOf(400)).score).toBe(scoreRisk(clusters, crowding, risk).score);
  });
});

describe('the model builds cascades from the book it is given', () => {
  const model = () => {
    const m = createHeatmapModel('BTCUSDT', buildParams());
    m.ingest('v', buildBars(Array.from({ length: 48 }, (_, i) => ({ openInterestUsd: 1_000_000 + i * 50_000, close: 100 + (i % 5) - 2, high: 103, low: 97 }))));
    return m;
  };
  const now = T0 + 48 * MIN_30;

  it('when build is given an order book (or null for none), then the map carries cascades and the risk inputs name them', () => {
    const h = model().build({ markPrice: 100, now, orderBook: buildBook({ mid: 100, step: 0.01, size: 100 }) });
    expect(h.cascades?.depth).toBe('book');
    const none = model().build({ markPrice: 100, now, orderBook: null });
    expect(none.cascades?.depth).toBe('none');
    expect(none.clusters.length).toBeGreaterThan(0);
    expect(none.risk.inputs.cascadeSeverity).toBeTypeOf('number');
  });

  it('when build is not given a book, then the map has no cascades (as before they existed)', () => {
    const h = model().build({ markPrice: 100, now });
    expect(h.cascades).toBeUndefined();
    expect(h.risk.inputs.cascadeSeverity).toBeUndefined();
  });
});
