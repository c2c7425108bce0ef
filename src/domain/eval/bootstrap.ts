/**
 * Seeded resampling for evaluation intervals. Deterministic: the same seed gives the
 * same interval on every machine (never Math.random).
 */

/** mulberry32: a small 32-bit PRNG; returns a function giving uniforms in [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface BootstrapOptions {
  /** Consecutive values resampled together (a block keeps their dependence); 1 = plain bootstrap. */
  blockLength: number;
  resamples: number;
  seed: number;
  /** Two-sided coverage, e.g. 0.95. */
  level: number;
}

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** The q-quantile of sorted values, linear between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const lo = sorted[i] ?? NaN;
  const hi = sorted[Math.min(i + 1, sorted.length - 1)] ?? NaN;
  return lo + (hi - lo) * (pos - i);
}

/**
 * Percentile interval of the mean of `values` under a moving-block bootstrap: each
 * resample concatenates blocks of `blockLength` consecutive values starting at uniform
 * positions until it has as many values as the input. NaN bounds for an empty input.
 */
export function blockBootstrapMean(values: readonly number[], opts: BootstrapOptions): Interval {
  const n = values.length;
  const mean = n === 0 ? NaN : values.reduce((s, v) => s + v, 0) / n;
  if (n === 0) return { mean, lo: NaN, hi: NaN, n };
  const block = Math.max(1, Math.min(Math.floor(opts.blockLength), n));
  const starts = n - block + 1;
  const rand = seededUniform(opts.seed);
  const means: number[] = [];
  for (let r = 0; r < opts.resamples; r++) {
    let sum = 0;
    let taken = 0;
    while (taken < n) {
      const s = Math.floor(rand() * starts);
      for (let k = 0; k < block && taken < n; k++, taken++) sum += values[s + k] ?? 0;
    }
    means.push(sum / n);
  }
  means.sort((a, b) => a - b);
  const tail = (1 - opts.level) / 2;
  return { mean, lo: quantileSorted(means, tail), hi: quantileSorted(means, 1 - tail), n };
}

/** A seeded Fisher–Yates permutation of `values` (a new array). */
export function shuffled<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  const rand = seededUniform(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}
