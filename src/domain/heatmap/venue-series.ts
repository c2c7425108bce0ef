import type { Bar } from '../market-data.js';
import type { HeatmapParams } from './params.js';
import type { FundingRegime, Volatility } from './types.js';

const HOUR_MS = 3_600_000;

/**
 * Standard deviation (n − 1) of close-to-close log returns, each scaled to one hour by
 * sqrt(1 h / its own spacing) so a gap between bars does not read as a jump, in bps.
 * Points oldest first. NaN with fewer than two returns.
 */
export function realizedBpsPerHour(ts: readonly number[], closes: readonly number[]): number {
  const r: number[] = [];
  for (let i = 1; i < closes.length; i++) {
    const dt = (ts[i] ?? 0) - (ts[i - 1] ?? 0);
    r.push(Math.log((closes[i] ?? NaN) / (closes[i - 1] ?? NaN)) / Math.sqrt(dt / HOUR_MS));
  }
  if (r.length < 2) return NaN;
  const mean = r.reduce((a, x) => a + x, 0) / r.length;
  const variance = r.reduce((a, x) => a + (x - mean) ** 2, 0) / (r.length - 1);
  return Math.sqrt(variance) * 1e4;
}

/**
 * The recent closes and funding observations of one venue, kept beside its position book
 * for the heatmap's volatility and funding-regime reads. Bounded: the last
 * `volatility.windowBars + 1` closes and the last `funding.historyBars` funding samples
 * (one per bar that carries a rate).
 */
export class VenueSeries {
  /** Ring buffers of the last windowBars + 1 closes and their bar times (ingest is hot: no array shifting). */
  private readonly closeTs: Float64Array;
  private readonly closes: Float64Array;
  private closeNext = 0;
  private closeCount = 0;
  private readonly funding: Float64Array;
  /** Next write position in the funding ring, and how many samples it holds. */
  private fundingNext = 0;
  private fundingCount = 0;
  private latestFunding = NaN;

  constructor(private readonly p: HeatmapParams) {
    this.closeTs = new Float64Array(p.volatility.windowBars + 1);
    this.closes = new Float64Array(p.volatility.windowBars + 1);
    this.funding = new Float64Array(p.funding.historyBars);
  }

  /** Records one closed bar (the caller applies the model's ordering rule first). */
  add(bar: Bar): void {
    if (Number.isFinite(bar.close) && bar.close > 0) {
      this.closeTs[this.closeNext] = bar.ts;
      this.closes[this.closeNext] = bar.close;
      this.closeNext = (this.closeNext + 1) % this.closes.length;
      this.closeCount = Math.min(this.closeCount + 1, this.closes.length);
    }
    const f = bar.fundingRate;
    if (f !== undefined && Number.isFinite(f)) {
      this.funding[this.fundingNext] = f;
      this.fundingNext = (this.fundingNext + 1) % this.funding.length;
      this.fundingCount = Math.min(this.fundingCount + 1, this.funding.length);
      this.latestFunding = f;
    }
  }

  /** Returns in the window. */
  returns(): number {
    return Math.max(0, this.closeCount - 1);
  }

  /** Realized volatility over the window, bps per hour; null below the model's minimum. */
  volatilityBpsPerHour(): number | null {
    if (this.returns() < this.p.volatility.minBars) return null;
    const ts: number[] = [];
    const closes: number[] = [];
    const first = (this.closeNext - this.closeCount + this.closes.length) % this.closes.length;
    for (let i = 0; i < this.closeCount; i++) {
      const k = (first + i) % this.closes.length;
      ts.push(this.closeTs[k] ?? NaN);
      closes.push(this.closes[k] ?? NaN);
    }
    const v = realizedBpsPerHour(ts, closes);
    return Number.isFinite(v) ? v : null;
  }

  bytes(): number {
    return this.funding.byteLength + this.closes.byteLength + this.closeTs.byteLength;
  }

  fundingSamples(): number {
    return this.fundingCount;
  }

  /**
   * Mid-rank of the latest sample among the kept ones: (samples below + half the samples
   * equal) / samples, so ties (a settled rate repeats for every bar until the next
   * settlement, and venues often sit at their default rate for days) read mid-range rather
   * than as the top of the history. Null below the model's minimum.
   */
  fundingPercentile(): number | null {
    if (this.fundingCount < this.p.funding.minHistoryBars) return null;
    let below = 0;
    let equal = 0;
    for (let i = 0; i < this.fundingCount; i++) {
      const x = this.funding[i] ?? NaN;
      if (x < this.latestFunding) below++;
      else if (x === this.latestFunding) equal++;
    }
    return (below + equal / 2) / this.fundingCount;
  }
}

/**
 * The map's volatility over its venues: the highest venue figure (the conservative read;
 * the venues trade one asset, so they differ only by microstructure). `bars` is the longest
 * venue window, so it says how far from the minimum an unknown figure is.
 */
export function combineVolatility(series: readonly VenueSeries[]): Volatility {
  let best: number | null = null;
  let bars = 0;
  for (const s of series) {
    bars = Math.max(bars, s.returns());
    const v = s.volatilityBpsPerHour();
    if (v !== null && (best === null || v > best)) best = v;
  }
  return { realizedBpsPerHour: best, bars };
}

/**
 * The map's funding regime: `rate` is the venues' latest rates weighted by open interest
 * (as the crowding read), `percentile` each venue's latest rate ranked in that venue's own
 * history (so one venue's habitually higher funding is not read as extreme), weighted by
 * open interest (a plain mean when no venue has any). `samples` is the longest venue history.
 */
export function combineFunding(venues: readonly { series: VenueSeries; oi: number; latest: number | undefined }[]): FundingRegime {
  let rateSum = 0;
  let rateWeight = 0;
  let pctSum = 0;
  let pctWeight = 0;
  let pctPlain = 0;
  let pctCount = 0;
  let samples = 0;
  for (const v of venues) {
    samples = Math.max(samples, v.series.fundingSamples());
    const w = v.oi > 0 ? v.oi : 0;
    if (v.latest !== undefined && w > 0) {
      rateSum += v.latest * w;
      rateWeight += w;
    }
    const pct = v.series.fundingPercentile();
    if (pct !== null) {
      pctSum += pct * w;
      pctWeight += w;
      pctPlain += pct;
      pctCount += 1;
    }
  }
  const percentile = pctWeight > 0 ? pctSum / pctWeight : pctCount > 0 ? pctPlain / pctCount : null;
  return { rate: rateWeight > 0 ? rateSum / rateWeight : null, percentile, samples };
}
