import { describe, expect, it } from 'vitest';
import { blockBootstrapMean, quantileSorted, seededUniform, shuffled } from '../../../src/domain/eval/bootstrap.js';

const boot = { blockLength: 1, resamples: 2000, seed: 7, level: 0.95 };

describe('seededUniform', () => {
  it('when seeded alike, then it repeats the same stream; when seeded differently, then it does not', () => {
    const a = seededUniform(1);
    const b = seededUniform(1);
    const c = seededUniform(2);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect([c(), c(), c()]).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('quantileSorted', () => {
  it('when the quantile falls between two values, then it interpolates linearly', () => {
    expect(quantileSorted([0, 10], 0.25)).toBe(2.5);
    expect(quantileSorted([1, 2, 3], 0.5)).toBe(2);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});

describe('blockBootstrapMean', () => {
  it('when every value is the same, then the interval collapses onto it', () => {
    expect(blockBootstrapMean([0.3, 0.3, 0.3, 0.3], boot)).toEqual({ mean: 0.3, lo: 0.3, hi: 0.3, n: 4 });
  });

  it('when values spread around a positive mean, then the interval brackets the mean inside the range of the values', () => {
    const xs = [0.1, 0.5, 0.2, 0.4, 0.3, 0.6, 0.0, 0.3];
    const r = blockBootstrapMean(xs, boot);
    expect(r.mean).toBeCloseTo(0.3, 12);
    expect(r.lo).toBeLessThan(r.mean);
    expect(r.hi).toBeGreaterThan(r.mean);
    expect(r.lo).toBeGreaterThan(0);
    expect(r.hi).toBeLessThan(0.6);
  });

  it('when run twice with the same seed, then the interval is identical; with another seed it moves', () => {
    const xs = [1.1, -2.3, 3.7, 0.51, -1.9, 2.23, 0.07];
    const few = { ...boot, resamples: 101 };
    expect(blockBootstrapMean(xs, few)).toEqual(blockBootstrapMean(xs, few));
    expect(blockBootstrapMean(xs, { ...few, seed: 8 }).lo).not.toBe(blockBootstrapMean(xs, few).lo);
  });

  it('when the block covers the whole series, then every resample is the series itself', () => {
    const r = blockBootstrapMean([1, 2, 6], { ...boot, blockLength: 3 });
    expect(r).toEqual({ mean: 3, lo: 3, hi: 3, n: 3 });
  });

  it('when there are no values, then mean and bounds are NaN', () => {
    const r = blockBootstrapMean([], boot);
    expect([r.mean, r.lo, r.hi, r.n]).toEqual([NaN, NaN, NaN, 0]);
  });
});

describe('shuffled', () => {
  it('when shuffling, then it returns a permutation of the input, reproducible by seed, and leaves the input alone', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8];
    const a = shuffled(xs, 3);
    expect([...a].sort((p, q) => p - q)).toEqual(xs);
    expect(shuffled(xs, 3)).toEqual(a);
    expect(a).not.toEqual(xs);
    expect(xs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
