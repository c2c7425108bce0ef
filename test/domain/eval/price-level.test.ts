import { describe, expect, it } from 'vitest';
import {
  baselineForecasts,
  bestDistanceRule,
  binIndex,
  buildHourBins,
  coveredIntervals,
  rankScore,
  scoreHourSide,
  summarisePriceLevel,
  timeAtBins,
  type HourBins,
  type SideHourScore,
} from '../../../src/domain/eval/price-level.js';

const boot = { blockLength: 1, resamples: 500, seed: 1, level: 0.95 };

/** Five bins around an open of 100 (98..102), longs liquidated further below: a ladder that knows it. */
function buildHour(overrides: Partial<HourBins> = {}): HourBins {
  return {
    open: 100,
    prices: [98, 99, 100, 101, 102],
    timeAt: [1, 2, 5, 2, 1],
    ladder: { long: [9, 4, 1, 0, 0], short: [0, 0, 1, 3, 8] },
    realized: { long: [50, 20, 5, 0, 0], short: [0, 0, 0, 10, 1] },
    ...overrides,
  };
}

describe('rankScore', () => {
  it('when the forecast is constant, then it scores 0 (no information), not NaN', () => {
    expect(rankScore([1, 1, 1], [3, 1, 2])).toBe(0);
  });
});

describe('baselineForecasts', () => {
  it('when scoring longs, then side-aware rules rank every bin above the open below every bin at or under it', () => {
    const f = baselineForecasts('long', 100, [98, 100, 102], [1, 1, 1]);
    expect(f.farther).toEqual([0.02, 0, 0.02]);
    expect(f.nearer).toEqual([-0.02, -0, -0.02]);
    expect(f.sideAwareFarther).toEqual([1.02, 1, 0]);
    expect(f.sideAwareNearer).toEqual([1.98, 2, 0]);
  });

  it('when scoring shorts, then the side-aware rules mirror around the open', () => {
    const f = baselineForecasts('short', 100, [98, 100, 102], [1, 1, 1]);
    expect(f.sideAwareFarther).toEqual([0, 1, 1.02]);
  });
});

describe('scoreHourSide', () => {
  it('when the ladder orders the bins as realized, then it scores 1 and the hindsight ceiling is what time says', () => {
    const s = scoreHourSide(buildHour(), 'long');
    expect(s?.ladder).toBeCloseTo(1, 12);
    expect(s?.baselines.uniform).toBe(0);
    expect(s?.baselines.sideAwareFarther).toBeCloseTo(1, 12);
    // realized ranks [5, 4, 3, 1.5, 1.5] vs time ranks [1.5, 3.5, 5, 3.5, 1.5]
    // deviations [2, 1, 0, -1.5, -1.5] and [-1.5, 0.5, 2, 0.5, -1.5]: -1 / sqrt(9.5 × 9)
    expect(s?.baselines.timeAtPrice).toBeCloseTo(-1 / Math.sqrt(85.5), 12);
  });

  it('when a side had no liquidation in the hour, then that side is not scored', () => {
    expect(scoreHourSide(buildHour({ realized: { long: [0, 0, 0, 0, 0], short: [0, 0, 0, 10, 1] } }), 'long')).toBeNull();
  });

  it('when the ladder ranks the bins backwards, then it scores -1', () => {
    expect(scoreHourSide(buildHour({ ladder: { long: [0, 1, 4, 9, 9], short: [0, 0, 1, 3, 8] } }), 'long')?.ladder).toBeCloseTo(-1, 12);
  });
});

describe('summarisePriceLevel', () => {
  const score = (ladder: number, farther: number): SideHourScore => ({
    ladder,
    baselines: { uniform: 0, nearer: -farther, farther, sideAwareNearer: 0.1, sideAwareFarther: farther, timeAtPrice: 0.9 },
  });

  it('when the ladder beats a rule every hour, then the mean difference and its interval are above zero', () => {
    const s = summarisePriceLevel([score(0.5, 0.2), score(0.6, 0.3), score(0.4, 0.2), score(-0.1, -0.3)], boot);
    expect(s.hours).toBe(4);
    expect(s.ladderMean).toBeCloseTo(0.35, 12);
    expect(s.shareAboveZero).toBe(0.75);
    expect(s.versus.farther.baselineMean).toBeCloseTo(0.1, 12);
    expect(s.versus.farther.diff.mean).toBeCloseTo(0.25, 12);
    expect(s.versus.farther.diff.lo).toBeGreaterThan(0);
    expect(s.versus.timeAtPrice.diff.hi).toBeLessThan(0);
    expect(s.versus.farther.sameHours).toBe(0);
    expect(s.versus.sideAwareNearer.sameHours).toBe(0);
  });

  it('when the ladder scores exactly as a rule in some hours, then those hours are counted as the same', () => {
    const s = summarisePriceLevel([score(0.2, 0.2), score(0.6, 0.3), score(-0.3, -0.3)], boot);
    expect(s.versus.farther.sameHours).toBe(2);
  });

  it('when choosing the best distance rule, then the hindsight ceiling and uniform are not candidates', () => {
    const s = summarisePriceLevel([score(0.5, 0.2), score(0.6, 0.3)], boot);
    expect(bestDistanceRule(s)).toBe('farther');
  });
});

describe('binIndex and timeAtBins', () => {
  it('when a price sits within half a bin of a centre, then it belongs to that bin', () => {
    // bins of 100 bps at mark 100: width 1, bin k centred at 100 + k
    expect(binIndex(100.49, 100, 100)).toBe(0);
    expect(binIndex(100.51, 100, 100)).toBe(1);
    expect(binIndex(98.6, 100, 100)).toBe(-1);
  });

  it('when a bar spans bins, then its duration is shared by the length of range in each', () => {
    const t = timeAtBins([{ low: 99.5, high: 101.5, duration: 4 }], 100, 100);
    expect([...t.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 2],
      [1, 2],
    ]);
  });

  it('when a bar has no range, then its whole duration lands in its bin, and bars add up', () => {
    const t = timeAtBins(
      [
        { low: 100.2, high: 100.2, duration: 5 },
        { low: 99.6, high: 100.4, duration: 1 },
      ],
      100,
      100,
    );
    expect(t.get(0)).toBeCloseTo(6, 12);
    expect(t.size).toBe(1);
  });
});

describe('coveredIntervals', () => {
  it('when events are further apart than the gap, then coverage splits there', () => {
    expect(coveredIntervals([50, 0, 10, 200, 210], 60)).toEqual([
      [0, 50],
      [200, 210],
    ]);
  });
});

describe('buildHourBins', () => {
  it('when events fall in traded bins, then their USD is summed per side and bin, in price order, with the ladder alongside', () => {
    const { bins, eventsOutside } = buildHourBins({
      open: 100,
      binBps: 100,
      ranges: [{ low: 97.6, high: 100.4, duration: 3 }],
      events: [
        { ts: 1, side: 'long', price: 97.7, usd: 10 },
        { ts: 2, side: 'long', price: 99.2, usd: 5 },
        { ts: 3, side: 'long', price: 97.9, usd: 1 },
        { ts: 4, side: 'short', price: 100.1, usd: 7 },
        { ts: 5, side: 'short', price: 103, usd: 9 },
      ],
      ladderAt: (k) => ({ long: -k, short: k + 10 }),
    });
    expect(eventsOutside).toBe(1);
    expect(bins.prices).toEqual([98, 99, 100]);
    expect(bins.realized).toEqual({ long: [11, 5, 0], short: [0, 0, 7] });
    expect(bins.ladder).toEqual({ long: [2, 1, -0], short: [8, 9, 10] });
    expect(bins.timeAt[0]! + bins.timeAt[1]! + bins.timeAt[2]!).toBeCloseTo(3, 12);
  });
});
