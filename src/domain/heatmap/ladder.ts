import { median } from '../../lib/math.js';
import type { Side } from '../market-data.js';
import type { HeatmapParams } from './params.js';
import type { Cascades, Cluster, Crowding, HeatmapBin, RiskScore } from './types.js';

/** A price ladder centred on the mark: bin k has centre mark × (1 + (k − half) × binBps / 1e4). */
export interface LadderGeometry {
  mark: number;
  binBps: number;
  half: number;
  /** Bin width in price. */
  width: number;
  /** Lower edge of bin 0. */
  lo: number;
  n: number;
}

export function ladderGeometry(mark: number, rangePct: number, binBps: number): LadderGeometry {
  if (!(mark > 0) || !Number.isFinite(mark)) throw new RangeError(`markPrice must be a positive number, got ${mark}`);
  if (!(rangePct > 0) || !(rangePct < 1)) throw new RangeError(`rangePct must be in (0, 1), got ${rangePct}`);
  if (!(binBps > 0) || !Number.isFinite(binBps)) throw new RangeError(`binBps must be positive, got ${binBps}`);
  const half = Math.floor((rangePct * 1e4) / binBps + 1e-9);
  if (half > 5000) throw new RangeError(`ladder of ±${half} bins is too large; widen binBps or narrow rangePct`);
  const width = (mark * binBps) / 1e4;
  return { mark, binBps, half, width, lo: mark - (half + 0.5) * width, n: 2 * half + 1 };
}

export function binOf(g: LadderGeometry, price: number): number {
  return Math.floor((price - g.lo) / g.width);
}

/** Adds `usd` spread uniformly over [a, b] to the ladder bins it overlaps. */
export function addUniform(g: LadderGeometry, out: Float64Array, a: number, b: number, usd: number): void {
  const lo = Math.max(a, g.lo);
  const hi = Math.min(b, g.lo + g.n * g.width);
  if (!(hi > lo) || !(b > a)) return;
  const density = usd / (b - a);
  for (let k = binOf(g, lo); k < g.n; k++) {
    const e0 = g.lo + k * g.width;
    if (e0 >= hi) break;
    const ov = Math.min(e0 + g.width, hi) - Math.max(e0, lo);
    if (ov > 0 && k >= 0) out[k] = (out[k] ?? 0) + density * ov;
  }
}

/**
 * Gaussian smoothing that conserves mass and never moves a side across the mark: long
 * mass may only land in bins at or below the mark's bin (or stay where it is), short mass
 * at or above.
 */
export function smoothSide(g: LadderGeometry, side: Side, v: Float64Array, sigmaBps: number): Float64Array {
  const sigma = sigmaBps / g.binBps;
  if (!(sigma > 0.05)) return v;
  const r = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * r + 1);
  for (let d = -r; d <= r; d++) kernel[d + r] = Math.exp(-(d * d) / (2 * sigma * sigma));
  const out = new Float64Array(g.n);
  const centre = g.half;
  for (let j = 0; j < g.n; j++) {
    const m = v[j] ?? 0;
    if (m === 0) continue;
    const a = Math.max(0, j - r);
    const b = Math.min(g.n - 1, j + r);
    let wsum = 0;
    for (let t = a; t <= b; t++) if (allowed(side, t, j, centre)) wsum += kernel[t - j + r] ?? 0;
    if (wsum <= 0) {
      out[j] = (out[j] ?? 0) + m;
      continue;
    }
    for (let t = a; t <= b; t++) {
      if (allowed(side, t, j, centre)) out[t] = (out[t] ?? 0) + (m * (kernel[t - j + r] ?? 0)) / wsum;
    }
  }
  return out;
}

function allowed(side: Side, t: number, j: number, centre: number): boolean {
  return t === j || (side === 'long' ? t <= centre : t >= centre);
}

export function toBins(g: LadderGeometry, longs: Float64Array, shorts: Float64Array): HeatmapBin[] {
  let total = 0;
  for (let k = 0; k < g.n; k++) total += (longs[k] ?? 0) + (shorts[k] ?? 0);
  const bins: HeatmapBin[] = new Array<HeatmapBin>(g.n);
  for (let k = 0; k < g.n; k++) {
    const l = longs[k] ?? 0;
    const s = shorts[k] ?? 0;
    bins[k] = { price: g.mark * (1 + ((k - g.half) * g.binBps) / 1e4), longUsd: l, shortUsd: s, probability: total > 0 ? (l + s) / total : 0 };
  }
  return bins;
}

/**
 * Contiguous dense zones per side. A bin is dense when its side's notional is at least
 * `densityMultiple` × the side's mean non-empty bin; a run of dense bins is a cluster.
 * Major when its share of all ladder notional is >= `majorMinShare` and its peak bin is
 * >= `majorPeakMultiple` × the side's median non-empty bin. Largest first.
 */
export function findClusters(bins: readonly HeatmapBin[], mark: number, binBps: number, p: HeatmapParams['cluster']): Cluster[] {
  let total = 0;
  for (const b of bins) total += b.longUsd + b.shortUsd;
  if (!(total > 0)) return [];
  const width = (mark * binBps) / 1e4;
  const out: Cluster[] = [];
  for (const side of ['long', 'short'] as const) {
    const v = bins.map((b) => (side === 'long' ? b.longUsd : b.shortUsd));
    const nonEmpty = v.filter((x) => x > 0);
    if (nonEmpty.length === 0) continue;
    const mean = nonEmpty.reduce((a, x) => a + x, 0) / nonEmpty.length;
    const med = median(nonEmpty) ?? 0;
    const threshold = p.densityMultiple * mean;
    const found: Cluster[] = [];
    let k = 0;
    while (k < v.length) {
      if ((v[k] ?? 0) < threshold || (v[k] ?? 0) <= 0) {
        k++;
        continue;
      }
      const start = k;
      let notional = 0;
      let peakK = k;
      while (k < v.length && (v[k] ?? 0) >= threshold && (v[k] ?? 0) > 0) {
        notional += v[k] ?? 0;
        if ((v[k] ?? 0) > (v[peakK] ?? 0)) peakK = k;
        k++;
      }
      const first = bins[start];
      const last = bins[k - 1];
      const peak = bins[peakK];
      if (!first || !last || !peak) continue;
      const priceLow = first.price - width / 2;
      const priceHigh = last.price + width / 2;
      const distanceBps = mark >= priceLow && mark <= priceHigh ? 0 : ((mark < priceLow ? priceLow : priceHigh) - mark) / mark * 1e4;
      const share = notional / total;
      found.push({
        side,
        peakPrice: peak.price,
        priceLow,
        priceHigh,
        notionalUsd: notional,
        share,
        distanceBps,
        major: share >= p.majorMinShare && (v[peakK] ?? 0) >= p.majorPeakMultiple * med,
      });
    }
    found.sort((a, b) => b.notionalUsd - a.notionalUsd);
    out.push(...found.slice(0, p.maxPerSide));
  }
  return out.sort((a, b) => b.notionalUsd - a.notionalUsd);
}

/**
 * Crowding: funding above its neutral level says longs pay to hold (longs crowded), below
 * says shorts; rising open interest confirms it. strength = |funding signal| × (0.5 + 0.5 ×
 * OI confirmation), where both signals are clamped to [0, 1].
 */
export function readCrowding(fundingRate: number, oiChangePct: number, p: HeatmapParams): Crowding {
  const f = Math.max(-1, Math.min(1, (fundingRate - p.funding.neutral) / p.funding.scale));
  const confirm = Math.max(0, Math.min(1, oiChangePct / p.crowding.oiChangeScale));
  const strength = Math.abs(f) * (0.5 + 0.5 * confirm);
  const side = strength < p.crowding.neutralBelow || f === 0 ? 'neutral' : f > 0 ? 'long' : 'short';
  return { side, strength: round(strength, 6), fundingRate, oiChangePct };
}

/**
 * Risk 0..100 from the largest cluster: 100 × exp(−|distanceBps| / distanceScaleBps) ×
 * ((1 − crowdingBoost) + crowdingBoost × alignment) × (1 + cascadeBoost × severity),
 * capped at 100, where alignment is the crowding strength when the crowded side is the
 * cluster's side, else 0, and severity is min(1, moveBps / cascadeScaleBps) of that
 * side's cascade (0 when the map has none): a cluster whose liquidations would run on
 * through the book is a bigger event than one the book absorbs.
 */
export function scoreRisk(clusters: readonly Cluster[], crowding: Crowding, p: HeatmapParams['risk'], cascades?: Cascades): RiskScore {
  let largest: Cluster | undefined;
  for (const c of clusters) if (!largest || c.notionalUsd > largest.notionalUsd) largest = c;
  if (!largest) return { score: 0, inputs: { clusterCount: 0, crowdingStrength: crowding.strength } };
  const proximity = Math.exp(-Math.abs(largest.distanceBps) / p.distanceScaleBps);
  const alignment = crowding.side === largest.side ? crowding.strength : 0;
  const cascade = cascades?.[largest.side] ?? null;
  const move = cascade !== null && Number.isFinite(cascade.moveBps) && cascade.moveBps > 0 ? cascade.moveBps : 0;
  const severity = Math.min(1, move / p.cascadeScaleBps);
  const raw = 100 * proximity * (1 - p.crowdingBoost + p.crowdingBoost * alignment) * (1 + p.cascadeBoost * severity);
  const inputs: Record<string, number> = {
    clusterCount: clusters.length,
    largestClusterDistanceBps: round(largest.distanceBps, 3),
    largestClusterShare: round(largest.share, 6),
    largestClusterNotionalUsd: round(largest.notionalUsd, 2),
    largestClusterIsLong: largest.side === 'long' ? 1 : 0,
    proximity: round(proximity, 6),
    crowdingStrength: crowding.strength,
    crowdingAlignment: round(alignment, 6),
    distanceScaleBps: p.distanceScaleBps,
  };
  // Only on maps that carry cascades: a map built without a book scores (and explains) as before.
  if (cascades !== undefined) {
    inputs.cascadeMoveBps = round(move, 3);
    inputs.cascadeSeverity = round(severity, 6);
  }
  return { score: round(Math.max(0, Math.min(100, raw)), 2), inputs };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
