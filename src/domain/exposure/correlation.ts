import { pearson } from '../heatmap/spearman.js';

/**
 * Correlation between symbols, measured on 5-minute log returns of the mark sampled at the
 * same instants. With fewer usable returns than the minimum (history too short, gaps), two
 * symbols count as fully correlated (1): unknown diversification is not assumed to exist.
 */

export const CORRELATION_BAR_MS = 5 * 60_000;

/** Log returns between consecutive samples; null where either sample is missing. */
export function logReturns(prices: readonly (number | null)[]): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 1; i < prices.length; i++) {
    const a = prices[i - 1];
    const b = prices[i];
    out.push(a != null && b != null && a > 0 && b > 0 ? Math.log(b / a) : null);
  }
  return out;
}

export interface PairCorrelation {
  rho: number;
  /** Returns it was measured on. */
  n: number;
  /** True when rho is the assumed 1 (too few returns, or a flat series). */
  assumed: boolean;
}

/** Pearson correlation of two return series over the instants both have; 1 (assumed) with fewer than `minReturns`. */
export function correlate(a: readonly (number | null)[], b: readonly (number | null)[], minReturns: number): PairCorrelation {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x != null && y != null) {
      xs.push(x);
      ys.push(y);
    }
  }
  if (xs.length < minReturns) return { rho: 1, n: xs.length, assumed: true };
  const rho = pearson(xs, ys);
  if (!Number.isFinite(rho)) return { rho: 1, n: xs.length, assumed: true };
  return { rho: Math.max(-1, Math.min(1, rho)), n: xs.length, assumed: false };
}

/** The instants to sample: `count + 1` instants ending at the last whole 5 minutes at or before `now`. */
export function correlationInstants(now: number, returns: number): number[] {
  const end = Math.floor(now / CORRELATION_BAR_MS) * CORRELATION_BAR_MS;
  return Array.from({ length: returns + 1 }, (_, i) => end - (returns - i) * CORRELATION_BAR_MS);
}
