import type { Side } from '../market-data.js';

/**
 * Liquidation notional on a log-spaced price grid, for one side and one leverage tier.
 *
 * Bucket i holds every cohort whose liquidation price p has floor(ln p / step) = i, and
 * its notional is treated as sitting at the bucket's centre price. Two lazy global
 * factors make the per-bar operations O(1) or amortised O(1):
 * - `scale` multiplies every stored value (age decay and proportional closes);
 * - `lo`/`hi` bound the non-empty buckets, so a price sweep clears from the outer edge
 *   inwards and each bucket is cleared at most once per fill.
 */
/** One side's new cohorts of a bar, spread over the bar's range in log price (see LiqGrid.addSpreadsLn). */
export interface LogSpread {
  /** Longs are capped at lnCap from above, shorts from below. */
  side: Side;
  /** Per tier: ln of the liquidation price over the entry price. */
  lnShifts: readonly number[];
  /** Per tier: its share of the side's new notional. */
  weights: readonly number[];
  lnLow: number;
  lnHigh: number;
  /** ln of the bar's close: no long liquidates above it, no short below. */
  lnCap: number;
  usd: number;
  /** Share of `usd` spread over the range (the rest entered at the typical price). */
  share: number;
}

export class LiqGrid {
  private data: Float64Array;
  /** Grid index of data[0]. */
  private base = 0;
  /** Inclusive bounds of possibly non-empty indices; lo > hi when empty. */
  private lo = 1;
  private hi = 0;
  /** Stored values times `scale` are USD. */
  private scale = 1;
  /** Sum of stored values (unscaled). */
  private sum = 0;

  constructor(
    readonly step: number,
    capacity = 1024,
  ) {
    this.data = new Float64Array(capacity);
  }

  static indexOf(price: number, step: number): number {
    return Math.floor(Math.log(price) / step);
  }

  centre(i: number): number {
    return Math.exp((i + 0.5) * this.step);
  }

  totalUsd(): number {
    return this.lo > this.hi ? 0 : this.sum * this.scale;
  }

  isEmpty(): boolean {
    return this.lo > this.hi;
  }

  /** Lowest possibly non-empty index (meaningless when empty). */
  loIndex(): number {
    return this.lo;
  }

  /** Highest possibly non-empty index (meaningless when empty). */
  hiIndex(): number {
    return this.hi;
  }

  add(liqPrice: number, usd: number): void {
    if (!(usd > 0) || !(liqPrice > 0)) return;
    const i = LiqGrid.indexOf(liqPrice, this.step);
    this.touch(i);
    const v = usd / this.scale;
    this.data[i - this.base] = (this.data[i - this.base] ?? 0) + v;
    this.sum += v;
  }

  /**
   * A bar's new cohorts on one side, over all leverage tiers at once: tier t gets
   * usd × weights[t] × share spread uniformly in log price over liquidation prices
   * [lnLow + lnShifts[t], lnHigh + lnShifts[t]] (natural logs), both ends capped at lnCap
   * from above (longs) or below (shorts); given lnLow <= lnHigh the capped ends stay
   * ordered. Each bucket gets the share of the interval it overlaps, so the density is exact.
   *
   * This is most of a cold start, hence one call per side with the per-tier work written
   * out here: a per-tier method call was not inlined by V8 and boxed its double
   * arguments on the heap (tens of MB of garbage per 30-day cold start).
   */
  static addSpreadsLn(grids: readonly LiqGrid[], spread: LogSpread): void {
    const { lnShifts: shifts, weights, lnLow, lnHigh, lnCap, usd, share } = spread;
    const capAbove = spread.side === 'long';
    for (let t = 0; t < grids.length; t++) {
      const g = grids[t];
      const m = usd * (weights[t] ?? 0);
      if (!g || !(m > 0)) continue;
      const f = shifts[t] ?? 0;
      const lnA = capAbove ? Math.min(lnLow + f, lnCap) : Math.max(lnLow + f, lnCap);
      const lnB = capAbove ? Math.min(lnHigh + f, lnCap) : Math.max(lnHigh + f, lnCap);
      const v = m * share;
      if (!(v > 0)) continue;
      const la = lnA / g.step;
      const lb = lnB / g.step;
      const i0 = Math.floor(la);
      const i1 = Math.floor(lb);
      if (!(lb > la) || i1 <= i0) {
        g.add(Math.exp((lnA + lnB) / 2), v);
        continue;
      }
      // Both ends inside the non-empty bounds is the usual case: nothing to widen.
      if (g.lo > g.hi || i0 < g.lo || i1 > g.hi) g.widen(i0, i1);
      // The overlap is (i0 + 1) − la for the first bucket, exactly 1 for interior ones and
      // lb − i1 (maybe 0) for the last: the values min(i + 1, lb) − max(i, la) gives,
      // without a min and a max per bucket.
      const perUnit = v / (lb - la) / g.scale;
      const d = g.data;
      const k0 = i0 - g.base;
      const k1 = i1 - g.base;
      d[k0] = (d[k0] ?? 0) + perUnit * (i0 + 1 - la);
      for (let k = k0 + 1; k < k1; k++) d[k] = (d[k] ?? 0) + perUnit;
      const last = lb - i1;
      if (last > 0) d[k1] = (d[k1] ?? 0) + perUnit * last;
      g.sum += v / g.scale;
    }
  }

  /** Makes buckets i0 and i1 addressable and inside the bounds (kept out of the hot loop above so V8 inlines less there). */
  private widen(i0: number, i1: number): void {
    this.touch(i0);
    this.touch(i1);
  }

  /** Multiplies every bucket by f in O(1); f in [0, 1]. */
  multiply(f: number): void {
    if (this.lo > this.hi) return;
    if (f <= 0) {
      this.clear();
      return;
    }
    this.scale *= f;
    if (this.scale < 1e-200) this.renormalise();
  }

  /** multiply(f), returning the USD that removed (what age decay moves to the unlocated pool). */
  decay(f: number): number {
    const before = this.totalUsd();
    this.multiply(f);
    return before - this.totalUsd();
  }

  /** Index of the first bucket whose centre is >= price. */
  static firstCentreAtOrAbove(price: number, step: number): number {
    const i = LiqGrid.indexOf(price, step);
    return Math.exp((i + 0.5) * step) < price ? i + 1 : i;
  }

  /** Index of the last bucket whose centre is <= price. */
  static lastCentreAtOrBelow(price: number, step: number): number {
    const i = LiqGrid.indexOf(price, step);
    return Math.exp((i + 0.5) * step) > price ? i - 1 : i;
  }

  /**
   * Removes every bucket from index i up (long liquidations swept by a low; i =
   * firstCentreAtOrAbove(low, step), computed once per bar for all grids of one side).
   * Returns USD removed.
   */
  sweepFromIndex(i: number): number {
    if (this.lo > this.hi) return 0;
    if (i > this.hi) return 0;
    const from = Math.max(i, this.lo);
    let removed = 0;
    for (let j = this.hi; j >= from; j--) {
      const k = j - this.base;
      removed += this.data[k] ?? 0;
      this.data[k] = 0;
    }
    this.hi = from - 1;
    return this.afterRemoval(removed);
  }

  /** Removes every bucket up to index i (short liquidations swept by a high; i = lastCentreAtOrBelow(high, step)). Returns USD removed. */
  sweepToIndex(i: number): number {
    if (this.lo > this.hi) return 0;
    if (i < this.lo) return 0;
    const to = Math.min(i, this.hi);
    let removed = 0;
    for (let j = this.lo; j <= to; j++) {
      const k = j - this.base;
      removed += this.data[k] ?? 0;
      this.data[k] = 0;
    }
    this.lo = to + 1;
    return this.afterRemoval(removed);
  }

  /** USD in buckets whose centre lies in [lo, hi]. */
  between(lo: number, hi: number): number {
    if (this.lo > this.hi || hi < lo) return 0;
    let a = LiqGrid.indexOf(lo, this.step);
    if (this.centre(a) < lo) a += 1;
    let b = LiqGrid.indexOf(hi, this.step);
    if (this.centre(b) > hi) b -= 1;
    a = Math.max(a, this.lo);
    b = Math.min(b, this.hi);
    let s = 0;
    for (let j = a; j <= b; j++) s += this.data[j - this.base] ?? 0;
    return s * this.scale;
  }

  /** Calls fn(centrePrice, usd) for each non-empty bucket with centre in [lo, hi], ascending. */
  forEachBetween(lo: number, hi: number, fn: (price: number, usd: number) => void): void {
    if (this.lo > this.hi || hi < lo) return;
    let a = LiqGrid.indexOf(lo, this.step);
    if (this.centre(a) < lo) a += 1;
    let b = LiqGrid.indexOf(hi, this.step);
    if (this.centre(b) > hi) b -= 1;
    a = Math.max(a, this.lo);
    b = Math.min(b, this.hi);
    const ratio = Math.exp(this.step);
    let c = this.centre(a);
    for (let j = a; j <= b; j++, c *= ratio) {
      const v = this.data[j - this.base] ?? 0;
      if (v !== 0) fn(c, v * this.scale);
    }
  }

  /** USD in bucket i (0 outside the non-empty bounds). */
  at(i: number): number {
    if (this.lo > this.hi || i < this.lo || i > this.hi) return 0;
    return (this.data[i - this.base] ?? 0) * this.scale;
  }

  /** Removes up to `usd` from bucket i (never below zero); returns the USD removed. */
  takeAt(i: number, usd: number): number {
    const have = this.at(i);
    const take = Math.min(have, usd);
    if (!(take > 0)) return 0;
    const k = i - this.base;
    const stored = take >= have ? (this.data[k] ?? 0) : take / this.scale;
    this.data[k] = take >= have ? 0 : Math.max(0, (this.data[k] ?? 0) - stored);
    this.sum -= stored;
    if (this.sum < 0) this.sum = 0;
    return take;
  }

  /** Bytes held by the grid's buffer. */
  bytes(): number {
    return this.data.byteLength;
  }

  private clear(): void {
    this.data.fill(0);
    this.lo = 1;
    this.hi = 0;
    this.sum = 0;
    this.scale = 1;
  }

  private afterRemoval(removedStored: number): number {
    if (this.lo > this.hi) {
      const usd = this.sum * this.scale;
      this.clear();
      return usd;
    }
    this.sum -= removedStored;
    if (this.sum < 0) this.sum = 0;
    return removedStored * this.scale;
  }

  private renormalise(): void {
    let s = 0;
    for (let j = this.lo; j <= this.hi; j++) {
      const k = j - this.base;
      const v = (this.data[k] ?? 0) * this.scale;
      this.data[k] = v;
      s += v;
    }
    this.scale = 1;
    this.sum = s;
  }

  /** Makes bucket i addressable and inside the non-empty bounds. */
  private touch(i: number): void {
    if (this.lo > this.hi) {
      // Empty: recentre the window on this bucket and forget old scaling.
      this.data.fill(0);
      this.base = i - (this.data.length >> 1);
      this.scale = 1;
      this.sum = 0;
      this.lo = i;
      this.hi = i;
      return;
    }
    this.ensure(i);
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
  }

  private ensure(i: number): void {
    const len = this.data.length;
    if (i >= this.base && i < this.base + len) return;
    const lo = Math.min(i, this.lo);
    const hi = Math.max(i, this.hi);
    const span = hi - lo + 1;
    let cap = len;
    while (cap < span * 1.5) cap *= 2;
    const next = new Float64Array(cap);
    const newBase = lo - ((cap - span) >> 1);
    for (let j = this.lo; j <= this.hi; j++) next[j - newBase] = this.data[j - this.base] ?? 0;
    this.data = next;
    this.base = newBase;
  }
}
