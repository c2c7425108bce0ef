import { describe, expect, it } from 'vitest';
import { inferIntervalMs, type Bar } from '../../src/domain/market-data.js';

const barsAt = (ts: number[]): Bar[] => ts.map((t) => ({ ts: t, open: 1, high: 1, low: 1, close: 1, openInterestUsd: 1 }));

describe('inferIntervalMs', () => {
  it('when bars have a gap, then the most common spacing is the timeframe', () => {
    expect(inferIntervalMs(barsAt([0, 300_000, 600_000, 1_500_000, 1_800_000]))).toBe(300_000);
  });

  it('when two spacings are equally common, then the shorter wins', () => {
    expect(inferIntervalMs(barsAt([0, 60_000, 360_000]))).toBe(60_000);
  });

  it('when there are fewer than two bars, then one minute is assumed', () => {
    expect(inferIntervalMs(barsAt([0]))).toBe(60_000);
  });
});
