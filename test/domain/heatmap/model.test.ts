import { describe, expect, it } from 'vitest';
import { createHeatmapModel, notionalBetween } from '../../../src/domain/heatmap/index.js';
import { liquidationDistance, liquidationPrice, MaintenanceMarginSchema } from '../../../src/domain/margin.js';
import type { Heatmap } from '../../../src/domain/heatmap/index.js';
import { buildBar, buildBars, buildHandParams, buildParams, MIN_30, T0 } from './factories.js';

const near = (x: number, width = 0.02): [number, number] => [x - width, x + width];

function binAt(h: Heatmap, price: number) {
  const w = (h.markPrice * h.binBps) / 1e4;
  return h.bins.find((b) => Math.abs(b.price - price) < w / 2);
}

/** Bar 0 has no open interest, bar 1 opens 1,000 USD at typical price 100 with no side evidence: 500 long, 500 short. */
const oneCohortBars = buildBars([
  { openInterestUsd: 0 },
  { open: 100, high: 101, low: 99, close: 100, openInterestUsd: 1_000 },
]);

describe('cohorts', () => {
  it('when 1,000 USD opens at 10x, then longs liquidate at entry × (1 − 1/10 + mmr) and shorts at entry × (1 + 1/10 − mmr)', () => {
    const model = createHeatmapModel('BTC', buildHandParams([10]));
    model.ingest('binance', oneCohortBars);
    // entry = (101 + 99 + 100) / 3 = 100; mmr = 0.004
    expect(liquidationPrice('long', 100, liquidationDistance(10, 0.004))).toBeCloseTo(90.4, 10);
    const h = model.build({ markPrice: 100, now: T0 + MIN_30 });
    expect(binAt(h, 90.4)?.longUsd).toBeCloseTo(500, 6);
    expect(binAt(h, 109.6)?.shortUsd).toBeCloseTo(500, 6);
    const otherLong = h.bins.filter((b) => b !== binAt(h, 90.4)).reduce((a, b) => a + b.longUsd, 0);
    expect(otherLong).toBeCloseTo(0, 6);
    expect(h.totalLongUsd).toBeCloseTo(500, 6);
    expect(h.totalShortUsd).toBeCloseTo(500, 6);
  });

  it('when a bar trades through some liquidation prices, then exactly the crossed cohorts are removed', () => {
    // Tiers 10/25/50/100x on 500 USD of longs: liquidation prices 90.4, 96.4, 98.4, 99.4 (125 USD each).
    const model = createHeatmapModel('BTC', buildHandParams([10, 25, 50, 100]));
    model.ingest('binance', oneCohortBars);
    for (const p of [90.4, 96.4, 98.4, 99.4]) expect(notionalBetween(model, 'long', ...near(p))).toBeCloseTo(125, 6);
    // The low of 97 crosses 99.4 and 98.4 but not 96.4; OI falls by exactly what was liquidated.
    model.ingest('binance', [buildBar({ ts: T0 + 2 * MIN_30, open: 100, high: 100.2, low: 97, close: 99, openInterestUsd: 750 })]);
    // (Not exactly 0: the negligible decay of a 1e9-hour half-life feeds the unlocated pool.)
    expect(notionalBetween(model, 'long', ...near(99.4))).toBeCloseTo(0, 6);
    expect(notionalBetween(model, 'long', ...near(98.4))).toBeCloseTo(0, 6);
    expect(notionalBetween(model, 'long', ...near(96.4))).toBeCloseTo(125, 6);
    expect(notionalBetween(model, 'long', ...near(90.4))).toBeCloseTo(125, 6);
    // Shorts at 100.6 and above were not reached by the high of 100.2.
    expect(notionalBetween(model, 'short', 100, 200)).toBeCloseTo(500, 6);
  });

  it('when open interest falls by 20% in a flat bar, then 20% of each side closes', () => {
    const model = createHeatmapModel('BTC', buildHandParams([10]));
    model.ingest('binance', oneCohortBars);
    model.ingest('binance', [buildBar({ ts: T0 + 2 * MIN_30, openInterestUsd: 800 })]);
    expect(notionalBetween(model, 'long', ...near(90.4))).toBeCloseTo(400, 6);
    expect(notionalBetween(model, 'short', ...near(109.6))).toBeCloseTo(400, 6);
  });

  it('when open interest falls in a down bar, then longs take the larger share of the closes (closeTilt)', () => {
    const model = createHeatmapModel('BTC', buildHandParams([10], { split: { maxTilt: 0, closeTilt: 0.3 } }));
    model.ingest('binance', oneCohortBars);
    // direction = (close − open)/(high − low) = −1; long share of the 200 USD closed = 0.5 + 0.5 × 0.3 = 0.65
    model.ingest('binance', [buildBar({ ts: T0 + 2 * MIN_30, open: 100, high: 100, low: 99.5, close: 99.5, openInterestUsd: 800 })]);
    expect(notionalBetween(model, 'long', ...near(90.4))).toBeCloseTo(500 - 130, 6);
    expect(notionalBetween(model, 'short', ...near(109.6))).toBeCloseTo(500 - 70, 6);
  });

  it('when the bar is an up candle with positive funding, then new open interest leans long', () => {
    const model = createHeatmapModel('BTC', buildHandParams([10], { split: { maxTilt: 0.3, candleWeight: 1, fundingWeight: 1 } }));
    model.ingest('binance', [
      buildBar({ ts: T0, openInterestUsd: 0 }),
      buildBar({ ts: T0 + MIN_30, open: 99, high: 101, low: 99, close: 101, fundingRate: 0.0004, openInterestUsd: 1_000 }),
    ]);
    const h = model.build({ markPrice: 101, now: T0 + 2 * MIN_30 });
    // evidence = mean(candle 1, funding +1) = 1 → long share 0.5 + 0.15
    expect(h.totalLongUsd).toBeCloseTo(650, 6);
    expect(h.totalShortUsd).toBeCloseTo(350, 6);
  });

  it('when a tier has aged one half-life, then half its notional has become unlocated and the total is unchanged', () => {
    const model = createHeatmapModel('BTC', buildHandParams([10], { leverage: { tiers: [10], weights: [1], halfLifeHours: [1] } }));
    model.ingest('binance', oneCohortBars);
    model.ingest('binance', [buildBar({ ts: T0 + MIN_30 + 3_600_000, openInterestUsd: 1_000 })]);
    // The other 250 USD is unlocated: spread (10x tier) over liquidation prices
    // 100 × (1 ± 0.03) × 0.904, of which the ±0.02 window holds 250 × 0.04 / (100 × 0.06 × 0.904).
    const unlocatedInWindow = (250 * 0.04) / (100 * 0.06 * 0.904);
    expect(notionalBetween(model, 'long', ...near(90.4))).toBeCloseTo(250 + unlocatedInWindow, 6);
    const h = model.build({ markPrice: 100, now: T0 + 3 * MIN_30 });
    expect(h.totalLongUsd + h.totalShortUsd).toBeCloseTo(1_000, 6);
  });

  it('when the first bar already carries open interest, then it is kept as unlocated mass instead of vanishing', () => {
    const model = createHeatmapModel('BTC', buildParams());
    model.ingest('binance', [buildBar({ openInterestUsd: 5_000_000 })]);
    const h = model.build({ markPrice: 100, now: T0 });
    expect(h.totalLongUsd + h.totalShortUsd).toBeCloseTo(5_000_000, 3);
    expect(h.bins.reduce((a, b) => a + b.longUsd + b.shortUsd, 0)).toBeGreaterThan(0);
    expect(h.bins.reduce((a, b) => a + b.probability, 0)).toBeCloseTo(1, 9);
  });
});

describe('ingest and venues', () => {
  it('when bars at or before the last ingested time arrive, then they are ignored', () => {
    const model = createHeatmapModel('BTC', buildHandParams([10]));
    model.ingest('binance', oneCohortBars);
    model.ingest('binance', [buildBar({ ts: T0, openInterestUsd: 9_999 }), buildBar({ ts: T0 + MIN_30, openInterestUsd: 9_999 })]);
    expect(model.lastBarTs('binance')).toBe(T0 + MIN_30);
    expect(model.build({ markPrice: 100, now: T0 }).openInterestUsd).toBe(1_000);
    expect(model.lastBarTs('okx')).toBeUndefined();
  });

  it('when three venues report their own open interest, then the symbol holds the sum of their latest values', () => {
    const model = createHeatmapModel('BTC', buildParams());
    model.ingest('okx', buildBars([{ openInterestUsd: 100 }, { openInterestUsd: 300 }]));
    model.ingest('binance', buildBars([{ openInterestUsd: 1_000 }, { openInterestUsd: 1_200 }]));
    model.ingest('bybit', buildBars([{ openInterestUsd: 500 }]));
    const h = model.build({ markPrice: 100, now: T0 + MIN_30 });
    expect(model.venues()).toEqual(['binance', 'bybit', 'okx']);
    expect(h.venues).toEqual(['binance', 'bybit', 'okx']);
    expect(h.openInterestUsd).toBe(2_000);
    expect(h.totalLongUsd + h.totalShortUsd).toBeCloseTo(2_000, 6);
  });
});

describe('build', () => {
  it('when range and bin width are omitted, then the ladder uses the params defaults around the mark', () => {
    const model = createHeatmapModel('BTC', buildParams({ rangePct: 0.1, binBps: 20 }));
    model.ingest('binance', buildBars([{}]));
    const h = model.build({ markPrice: 200, now: T0 + 1 });
    expect(h.bins).toHaveLength(101);
    expect(h.bins[50]?.price).toBe(200);
    expect(h.bins[0]?.price).toBeCloseTo(180, 9);
    expect(h.asOf).toBe(T0 + 1);
    expect(h.binBps).toBe(20);
    expect(h.rangePct).toBe(0.1);
  });

  it('when the mark is not a positive number, then build throws a RangeError', () => {
    const model = createHeatmapModel('BTC', buildParams());
    expect(() => model.build({ markPrice: 0, now: T0 })).toThrow(RangeError);
    expect(() => model.build({ markPrice: Number.NaN, now: T0 })).toThrow(RangeError);
  });

  it('when funding is well above neutral and open interest rose over the window, then longs read as crowded', () => {
    const model = createHeatmapModel('BTC', buildParams());
    model.ingest('binance', buildBars([{ openInterestUsd: 1_000, fundingRate: 0.0001 }, { openInterestUsd: 1_100, fundingRate: 0.0005 }]));
    const c = model.build({ markPrice: 100, now: T0 + MIN_30 }).crowding;
    expect(c.side).toBe('long');
    expect(c.oiChangePct).toBeCloseTo(0.1, 9);
    expect(c.fundingRate).toBe(0.0005);
    expect(c.strength).toBeCloseTo(1, 9);
  });

  it('when funding is below neutral, then shorts read as crowded; at neutral, nobody is', () => {
    const short = createHeatmapModel('BTC', buildParams());
    short.ingest('binance', buildBars([{ fundingRate: -0.0003 }]));
    expect(short.build({ markPrice: 100, now: T0 }).crowding.side).toBe('short');
    const flat = createHeatmapModel('BTC', buildParams());
    flat.ingest('binance', buildBars([{ fundingRate: 0.0001 }]));
    expect(flat.build({ markPrice: 100, now: T0 }).crowding).toMatchObject({ side: 'neutral', strength: 0 });
  });

  it('when nothing has been ingested, then the heatmap is empty, neutral and risk-free', () => {
    const h = createHeatmapModel('BTC', buildParams()).build({ markPrice: 100, now: T0 });
    expect(h.venues).toEqual([]);
    expect(h.openInterestUsd).toBe(0);
    expect(h.bins.every((b) => b.longUsd === 0 && b.shortUsd === 0 && b.probability === 0)).toBe(true);
    expect(h.clusters).toEqual([]);
    expect(h.crowding.side).toBe('neutral');
    expect(h.risk.score).toBe(0);
  });

  it('when a bar carries no usable open interest, then the book keeps the last known total', () => {
    const model = createHeatmapModel('BTC', buildParams());
    model.ingest('binance', buildBars([{ openInterestUsd: 1_000 }, { openInterestUsd: Number.NaN }]));
    const h = model.build({ markPrice: 100, now: T0 + MIN_30 });
    expect(h.openInterestUsd).toBe(1_000);
    expect(h.totalLongUsd + h.totalShortUsd).toBeCloseTo(1_000, 6);
  });
});

describe('cohorts by assumed position size (maintenance-margin tiers)', () => {
  const table = MaintenanceMarginSchema.parse([
    { upToNotionalUsd: 50_000, rate: 0.004, maxLeverage: 125 },
    { upToNotionalUsd: 250_000, rate: 0.005, maxLeverage: 100 },
    { upToNotionalUsd: null, rate: 0.01, maxLeverage: 50 },
  ]);

  it('when two size classes share a 10x tier, then each liquidates at its own tier rate: the larger nearer the entry', () => {
    // 10k USD: 0.4% → 90.4. 1M USD: 1% less (50 + 1,250) / 1M = 0.87% → 90.87.
    const model = createHeatmapModel('BTC', buildHandParams([10], { positionSizes: { notionalUsd: [10_000, 1_000_000], shares: [1, 1] } }), table);
    model.ingest('binance', oneCohortBars);
    expect(notionalBetween(model, 'long', ...near(90.4))).toBeCloseTo(250, 6);
    expect(notionalBetween(model, 'long', ...near(90.87))).toBeCloseTo(250, 6);
    expect(notionalBetween(model, 'short', ...near(109.13))).toBeCloseTo(250, 6);
  });

  it('when a size class is above what the table allows a tier\'s leverage, then its cohorts use the table\'s maximum for that size', () => {
    // 100x at 1M USD: the table allows 50x there, so 1/50 − 0.87% = 1.13% below entry.
    const model = createHeatmapModel('BTC', buildHandParams([100], { positionSizes: { notionalUsd: [1_000_000], shares: [1] } }), table);
    model.ingest('binance', oneCohortBars);
    expect(notionalBetween(model, 'long', ...near(98.87))).toBeCloseTo(500, 6);
  });

  it('when the default (one retail-sized class) reads a tier table whose lowest tier is 0.4%, then the map equals the one-tier 0.4% map', () => {
    const bars = buildBars(Array.from({ length: 60 }, (_, i) => ({ open: 100 + Math.sin(i), high: 101.5 + Math.sin(i), low: 98.5 + Math.sin(i), close: 100 + Math.sin(i + 1), openInterestUsd: 1_000 + 10 * i })));
    const one = createHeatmapModel('BTC', buildParams());
    const tiered = createHeatmapModel('BTC', buildParams(), table);
    one.ingest('binance', bars);
    tiered.ingest('binance', bars);
    const at = { markPrice: 100, now: T0 + 60 * MIN_30 };
    expect(tiered.build(at)).toEqual(one.build(at));
  });
});

describe('partial sweep (sweepGraceBps: the mark wicks less than the last price)', () => {
  // 100x from 100: longs liquidate at 99.4. The next bar's OI is unknown, so nothing reopens.
  const wick = (low: number) => [...oneCohortBars, buildBar({ ts: T0 + 2 * MIN_30, open: 100, high: 100.2, low, close: 100, openInterestUsd: Number.NaN })];
  const kept = (grace: number, low: number) => {
    const model = createHeatmapModel('BTC', buildHandParams([100], { sweepGraceBps: grace }));
    model.ingest('binance', wick(low));
    return notionalBetween(model, 'long', ...near(99.4));
  };

  it('when a wick only grazes a level, then most of its cohorts survive; a wick well through it clears them', () => {
    expect(kept(0, 99.38)).toBeCloseTo(0, 6);
    // low 99.38, full sweep from 99.38 × 1.001 = 99.479: the 99.4 bucket keeps (99.479 − 99.4) / 0.0994 ≈ 0.8.
    expect(kept(10, 99.38)).toBeGreaterThan(0.7 * 500);
    expect(kept(10, 99.38)).toBeLessThan(0.85 * 500);
    expect(kept(10, 99.2)).toBeCloseTo(0, 6);
  });

  it('when the wick does not reach the level, then the grace changes nothing', () => {
    expect(kept(10, 99.5)).toBeCloseTo(500, 6);
    expect(kept(0, 99.5)).toBeCloseTo(500, 6);
  });
});
