import { describe, expect, it } from 'vitest';
import { averageRanks, spearman } from '../../../src/domain/heatmap/spearman.js';

describe('spearman', () => {
  it('when values tie, then they share the average of their ranks', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });

  it('when one series is a monotone transform of the other, then the correlation is 1 (or −1 reversed)', () => {
    const x = [1, 5, 2, 8, 3];
    expect(spearman(x, x.map((v) => v ** 3))).toBeCloseTo(1, 12);
    expect(spearman(x, x.map((v) => -Math.exp(v)))).toBeCloseTo(-1, 12);
  });

  it('when ties are present, then it matches the textbook value computed by hand', () => {
    // ranks a: [1, 2.5, 2.5, 4]; ranks b: [1, 3, 2, 4] → Pearson on ranks = 4.5 / sqrt(4.5 × 5)
    expect(spearman([1, 2, 2, 3], [10, 30, 20, 40])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
  });

  it('when a series is constant, then the correlation is undefined (NaN)', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('when lengths differ, then it throws', () => {
    expect(() => spearman([1, 2], [1])).toThrow(RangeError);
  });
});
