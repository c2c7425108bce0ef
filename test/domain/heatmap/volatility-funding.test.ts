import { describe, expect, it } from 'vitest';
import { createHeatmapModel, type Heatmap } from '../../../src/domain/heatmap/index.js';
import type { Bar } from '../../../src/domain/market-data.js';
import { buildBars, buildParams, T0 } from './factories.js';

const HOUR = 3_600_000;

/** Bars whose closes move by the given log returns from 100, `step` ms apart. */
function barsFromReturns(returns: number[], step: number, extra: Partial<Bar> = {}): Bar[] {
  let close = 100;
  const closes = [close, ...returns.map((r) => (close *= Math.exp(r)))];
  return buildBars(
    closes.map((c) => ({ open: c, high: c * 1.001, low: c * 0.999, close: c, ...extra })),
    step,
  );
}

const alternating = (n: number, r: number): number[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? r : -r));

function build(venues: Record<string, Bar[]>, overrides: Record<string, unknown> = {}, only?: string[]): Heatmap {
  const model = createHeatmapModel('BTC', buildParams(overrides));
  for (const [venue, bars] of Object.entries(venues)) model.ingest(venue, bars);
  const last = Math.max(...Object.values(venues).map((b) => b[b.length - 1]?.ts ?? T0));
  return model.build({ markPrice: 100, now: last + HOUR, ...(only ? { venues: only } : {}) });
}

describe('heatmap.volatility', () => {
  it('when hourly closes alternate by ±1%, then the realized volatility is 1% × sqrt(12/11) per hour (sample stdev of 12 returns)', () => {
    const h = build({ binance: barsFromReturns(alternating(12, 0.01), HOUR) });
    expect(h.volatility?.bars).toBe(12);
    expect(h.volatility?.realizedBpsPerHour).toBeCloseTo(100 * Math.sqrt(12 / 11), 9);
  });

  it('when the same ±1% moves come every 15 minutes, then the figure per hour doubles (square root of time)', () => {
    const h = build({ binance: barsFromReturns(alternating(12, 0.01), HOUR / 4) });
    expect(h.volatility?.realizedBpsPerHour).toBeCloseTo(200 * Math.sqrt(12 / 11), 9);
  });

  it('when a bar is missing, then the return across the gap is scaled by its own spacing and does not read as a jump', () => {
    // +2% over a 4-hour gap is 1% per sqrt(hour), like every other hourly return here.
    const returns = alternating(12, 0.01);
    returns[4] = 0.02;
    const bars = barsFromReturns(returns, HOUR).map((b, i) => (i >= 5 ? { ...b, ts: b.ts + 3 * HOUR } : b));
    const h = build({ binance: bars });
    const uniform = build({ binance: barsFromReturns(alternating(12, 0.01), HOUR) });
    expect(h.volatility?.realizedBpsPerHour).toBeCloseTo(uniform.volatility?.realizedBpsPerHour ?? NaN, 9);
  });

  it('when wild bars are followed by 12 flat returns, then only the window counts and the figure is 0', () => {
    const h = build({ binance: barsFromReturns([...alternating(10, 0.05), ...Array<number>(12).fill(0)], HOUR) });
    expect(h.volatility).toEqual({ realizedBpsPerHour: 0, bars: 12 });
  });

  it('when the window is set to 4 returns, then the figure uses exactly the last 4', () => {
    const h = build({ binance: barsFromReturns([0.05, -0.05, 0.05, 0.01, -0.01, 0.01, -0.01], HOUR) }, { volatility: { windowBars: 4, minBars: 4 } });
    expect(h.volatility?.bars).toBe(4);
    expect(h.volatility?.realizedBpsPerHour).toBeCloseTo(100 * Math.sqrt(4 / 3), 9);
  });

  it('when fewer returns than the minimum (6) are known, then the figure is null and bars says how many there are', () => {
    expect(build({ binance: barsFromReturns(alternating(5, 0.01), HOUR) }).volatility).toEqual({ realizedBpsPerHour: null, bars: 5 });
    expect(build({ binance: barsFromReturns(alternating(6, 0.01), HOUR) }).volatility?.realizedBpsPerHour).not.toBeNull();
  });

  it('when two venues differ, then the map takes the higher figure, and a map of one venue only that venue', () => {
    const venues = { calm: barsFromReturns(alternating(12, 0.001), HOUR), wild: barsFromReturns(alternating(12, 0.01), HOUR) };
    expect(build(venues).volatility?.realizedBpsPerHour).toBeCloseTo(100 * Math.sqrt(12 / 11), 9);
    expect(build(venues, {}, ['calm']).volatility?.realizedBpsPerHour).toBeCloseTo(10 * Math.sqrt(12 / 11), 9);
  });

  it('when bars older than the last ingested one arrive again, then they are ignored as the book ignores them', () => {
    const bars = barsFromReturns(alternating(12, 0.01), HOUR);
    const model = createHeatmapModel('BTC', buildParams());
    model.ingest('binance', bars);
    model.ingest('binance', bars.slice(3, 8).map((b) => ({ ...b, close: b.close * 2 })));
    const h = model.build({ markPrice: 100, now: T0 + 13 * HOUR });
    expect(h.volatility?.realizedBpsPerHour).toBeCloseTo(100 * Math.sqrt(12 / 11), 9);
  });
});

describe('heatmap.funding', () => {
  const small = { funding: { historyBars: 10, minHistoryBars: 4 } };
  const withFunding = (rates: (number | undefined)[], oi = 1_000): Bar[] =>
    buildBars(rates.map((fundingRate) => ({ fundingRate, openInterestUsd: oi })));

  it('when the latest rate is the highest of five distinct ones, then its percentile is (4 below + half of itself) / 5 = 0.9', () => {
    const h = build({ binance: withFunding([1, 2, 3, 4, 5].map((x) => x * 1e-4)) }, small);
    expect(h.funding).toEqual({ rate: 5e-4, percentile: 0.9, samples: 5 });
  });

  it('when the latest rate is the lowest, then its percentile mirrors the highest: 0.5 / 5 = 0.1', () => {
    const h = build({ binance: withFunding([5, 4, 3, 2, 1].map((x) => x * 1e-4)) }, small);
    expect(h.funding?.percentile).toBeCloseTo(0.1, 12);
  });

  it('when the rate has stood at its usual level for most of the history, then it reads mid-range, not as the top', () => {
    // 2 samples below, 8 equal to the latest: (2 + 8 / 2) / 10; "at or below" would say 1.
    const h = build({ binance: withFunding([0.5, 0.5, 1, 1, 1, 1, 1, 1, 1, 1].map((x) => x * 1e-4)) }, small);
    expect(h.funding?.percentile).toBeCloseTo(0.6, 12);
  });

  it('when more samples arrive than the history keeps, then the oldest are forgotten', () => {
    // Five extreme rates, then 10 ordinary ones ending at the median: ranked among the last 10 only.
    const rates = [...Array<number>(5).fill(0.01), ...[1, 2, 3, 4, 6, 7, 8, 9, 10, 5].map((x) => x * 1e-4)];
    const h = build({ binance: withFunding(rates) }, small);
    expect(h.funding).toEqual({ rate: 5e-4, percentile: 0.45, samples: 10 });
  });

  it('when fewer samples than the minimum are known, then the percentile is null but the rate is still reported', () => {
    const h = build({ binance: withFunding([1e-4, 2e-4, 3e-4]) }, small);
    expect(h.funding).toEqual({ rate: 3e-4, percentile: null, samples: 3 });
  });

  it('when bars carry no funding rate, then they are not samples, and with none at all the rate is null', () => {
    expect(build({ binance: withFunding([1e-4, undefined, 2e-4, undefined]) }, small).funding?.samples).toBe(2);
    expect(build({ binance: withFunding([undefined, undefined]) }, small).funding).toEqual({ rate: null, percentile: null, samples: 0 });
  });

  it('when two venues have their own funding habits, then each rate is ranked in its own history and both are weighted by open interest', () => {
    // big: 3,000 USD OI, every sample equal (percentile 0.5); small: 1,000 USD, latest the lowest of 4 (0.5 / 4).
    const venues = { big: withFunding([1e-4, 1e-4, 1e-4, 1e-4], 3_000), small: withFunding([9e-4, 8e-4, 7e-4, 5e-4], 1_000) };
    const h = build(venues, small);
    expect(h.funding?.rate).toBeCloseTo((3_000 * 1e-4 + 1_000 * 5e-4) / 4_000, 12);
    expect(h.funding?.percentile).toBeCloseTo((3_000 * 0.5 + 1_000 * 0.125) / 4_000, 12);
    expect(h.funding?.samples).toBe(4);
    expect(h.crowding.fundingRate).toBeCloseTo(h.funding?.rate ?? NaN, 12);
  });

  it('when the defaults apply, then 2,016 samples are kept and 288 are needed', () => {
    const p = buildParams();
    expect(p.funding.historyBars).toBe(2016);
    expect(p.funding.minHistoryBars).toBe(288);
    expect(p.volatility).toEqual({ windowBars: 12, minBars: 6 });
  });
});
