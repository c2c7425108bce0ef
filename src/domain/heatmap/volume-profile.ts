/**
 * A decaying volume-at-price profile over log-price buckets, built from bars alone: each
 * bar's volume (or, without volume, its duration: time at price) is spread uniformly over
 * its [low, high]. Used to place a bar's new entries where trading concentrated rather than
 * uniformly over its range (`entryProfile` in params; docs/model.md, "Candidates tried").
 */
export class VolumeProfile {
  /** Bucket index (floor(ln price / step)) → weight, in units of `scale` (lazy decay). */
  private readonly buckets = new Map<number, number>();
  private scale = 1;

  constructor(private readonly step: number) {}

  /** Multiplies every bucket by f (in (0, 1]) in O(1), renormalising now and then. */
  decay(f: number): void {
    if (!(f > 0) || f >= 1) return;
    this.scale *= f;
    if (this.scale < 1e-100) this.renormalise();
  }

  /** Spreads `weight` uniformly in log price over [lnLow, lnHigh] (a point when they meet). */
  add(lnLow: number, lnHigh: number, weight: number): void {
    if (!(weight > 0) || !Number.isFinite(lnLow) || !Number.isFinite(lnHigh)) return;
    const w = weight / this.scale;
    const a = lnLow / this.step;
    const b = lnHigh / this.step;
    const i0 = Math.floor(a);
    const i1 = Math.floor(b);
    if (!(b > a) || i1 === i0) {
      this.buckets.set(i0, (this.buckets.get(i0) ?? 0) + w);
      return;
    }
    const per = w / (b - a);
    for (let i = i0; i <= i1; i++) {
      const overlap = Math.min(i + 1, b) - Math.max(i, a);
      if (overlap > 0) this.buckets.set(i, (this.buckets.get(i) ?? 0) + per * overlap);
    }
  }

  /**
   * The pieces of [lnLow, lnHigh] cut at bucket edges, each with its share of the range's
   * profile weight (the bucket's density × the piece's length, normalised to sum to 1).
   * Empty when the profile holds nothing there.
   */
  pieces(lnLow: number, lnHigh: number): { lnLow: number; lnHigh: number; share: number }[] {
    const a = lnLow / this.step;
    const b = lnHigh / this.step;
    if (!(b > a)) return [];
    const out: { lnLow: number; lnHigh: number; share: number }[] = [];
    let total = 0;
    for (let i = Math.floor(a); i <= Math.floor(b); i++) {
      const lo = Math.max(i, a);
      const hi = Math.min(i + 1, b);
      const w = (this.buckets.get(i) ?? 0) * (hi - lo);
      if (!(hi > lo) || !(w > 0)) continue;
      out.push({ lnLow: lo * this.step, lnHigh: hi * this.step, share: w });
      total += w;
    }
    if (!(total > 0)) return [];
    for (const p of out) p.share /= total;
    return out;
  }

  /** Drops buckets that have decayed to nothing (relative to the largest), keeping the map small. */
  prune(relative = 1e-9): void {
    let max = 0;
    for (const v of this.buckets.values()) if (v > max) max = v;
    for (const [k, v] of this.buckets) if (v < max * relative) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }

  private renormalise(): void {
    for (const [k, v] of this.buckets) this.buckets.set(k, v * this.scale);
    this.scale = 1;
  }
}
