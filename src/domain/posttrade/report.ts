import { median } from '../../lib/math.js';
import { seededUniform } from '../eval/bootstrap.js';
import type { FillAnalysis } from './analyze.js';

/** Aggregates of fill analyses (GET /posttrade/report) and the calibration they suggest. Pure. */

export interface SlippageStats {
  n: number;
  meanBps: number | null;
  medianBps: number | null;
}

export interface HourRow {
  hourUtc: number;
  /** Fills with both a predicted and a realized slippage. */
  n: number;
  predictedMeanBps: number | null;
  realizedMeanBps: number | null;
  /** Median of realized / predicted over fills whose prediction was above MIN_PREDICTED_BPS. */
  realizedOverPredictedMedian: number | null;
}

export interface PosttradeReport {
  fills: number;
  exits: { n: number; clusterAffected: number; clusterAffectedShare: number | null; meanRevertedShareWhenAffected: number | null };
  slippage: { insideZones: SlippageStats; outsideZones: SlippageStats; zoneUnknown: number };
  byHourUtc: HourRow[];
}

export interface CalibrationProposal {
  hourUtc: number;
  n: number;
  currentMultiplier: number;
  /** Median realized / predicted slippage, and its 90% bootstrap interval. */
  realizedOverPredicted: number | null;
  interval: [number, number] | null;
  /** current / ratio (depth is ~inversely proportional to slippage), clamped to [0.05, 1]; null below minSamples. */
  proposedMultiplier: number | null;
  proposedInterval: [number, number] | null;
  note: string;
}

/** Predictions below this many bps are too small to form a ratio with (a spread tick is ~0.1 bps on BTC). */
export const MIN_PREDICTED_BPS = 0.5;
const MULTIPLIER_MIN = 0.05;

export function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function stats(xs: number[]): SlippageStats {
  return { n: xs.length, meanBps: mean(xs), medianBps: median(xs) };
}

/** Percentile bootstrap interval of the median (resamples with a seeded PRNG). */
export function bootstrapMedianInterval(xs: readonly number[], level = 0.9, resamples = 1000, seed = 1): [number, number] | null {
  if (xs.length === 0) return null;
  const rand = seededUniform(seed);
  const meds: number[] = [];
  const sample = new Array<number>(xs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < xs.length; i++) sample[i] = xs[Math.floor(rand() * xs.length)]!;
    meds.push(median(sample)!);
  }
  meds.sort((a, b) => a - b);
  const lo = meds[Math.floor(((1 - level) / 2) * (resamples - 1))]!;
  const hi = meds[Math.ceil((1 - (1 - level) / 2) * (resamples - 1))]!;
  return [lo, hi];
}

const ratioOf = (a: FillAnalysis): number | null =>
  a.realizedSlippageBps !== null && a.expectedSlippageBps !== null && a.expectedSlippageBps >= MIN_PREDICTED_BPS
    ? a.realizedSlippageBps / a.expectedSlippageBps
    : null;

export function buildReport(analyses: readonly FillAnalysis[]): PosttradeReport {
  const exits = analyses.filter((a) => a.exit !== null);
  const affected = exits.filter((a) => a.exit!.clusterAffected);
  const reverted = affected.map((a) => a.exit!.revertedShare).filter((x): x is number => x !== null);
  const inside: number[] = [];
  const outside: number[] = [];
  let zoneUnknown = 0;
  for (const a of analyses) {
    if (a.realizedSlippageBps === null) continue;
    if (a.inClusterZone === null) zoneUnknown++;
    else (a.inClusterZone ? inside : outside).push(a.realizedSlippageBps);
  }
  const byHourUtc: HourRow[] = [];
  for (let h = 0; h < 24; h++) {
    const rows = analyses.filter((a) => a.hourUtc === h && a.realizedSlippageBps !== null && a.expectedSlippageBps !== null);
    if (rows.length === 0) continue;
    const ratios = rows.map(ratioOf).filter((x): x is number => x !== null);
    byHourUtc.push({
      hourUtc: h,
      n: rows.length,
      predictedMeanBps: mean(rows.map((a) => a.expectedSlippageBps!)),
      realizedMeanBps: mean(rows.map((a) => a.realizedSlippageBps!)),
      realizedOverPredictedMedian: median(ratios),
    });
  }
  return {
    fills: analyses.length,
    exits: {
      n: exits.length,
      clusterAffected: affected.length,
      clusterAffectedShare: exits.length === 0 ? null : affected.length / exits.length,
      meanRevertedShareWhenAffected: mean(reverted),
    },
    slippage: { insideZones: stats(inside), outsideZones: stats(outside), zoneUnknown },
    byHourUtc,
  };
}

const clampMultiplier = (x: number): number => Math.min(1, Math.max(MULTIPLIER_MIN, x));

/**
 * Per UTC hour: if fills slipped k times what the gate predicted, the book was about 1/k as
 * deep as the gate assumed, so the hour's depth multiplier would be current / k. Proposed
 * only with at least `minSamples` ratios; never applied by the service.
 */
export function proposeTimeOfDay(analyses: readonly FillAnalysis[], currentHourly: readonly number[], minSamples: number): CalibrationProposal[] {
  const out: CalibrationProposal[] = [];
  for (let h = 0; h < 24; h++) {
    const ratios = analyses
      .filter((a) => a.hourUtc === h)
      .map(ratioOf)
      .filter((x): x is number => x !== null && Number.isFinite(x));
    const current = currentHourly[h] ?? 1;
    if (ratios.length === 0) continue;
    const k = median(ratios)!;
    const interval = bootstrapMedianInterval(ratios, 0.9, 1000, h + 1);
    const observed = { hourUtc: h, n: ratios.length, currentMultiplier: current, realizedOverPredicted: k, interval };
    if (ratios.length < minSamples || !(k > 0) || interval === null) {
      out.push({
        ...observed,
        proposedMultiplier: null,
        proposedInterval: null,
        note: ratios.length < minSamples ? `too few fills (${ratios.length} < ${minSamples})` : 'realized slippage not positive: no depth signal',
      });
      continue;
    }
    // A larger ratio means thinner depth: the interval's ends swap.
    const [lo, hi] = interval;
    out.push({
      ...observed,
      proposedMultiplier: clampMultiplier(current / k),
      proposedInterval: [clampMultiplier(hi > 0 ? current / hi : MULTIPLIER_MIN), clampMultiplier(lo > 0 ? current / lo : 1)],
      note: k > 1 ? 'fills slipped more than predicted: less depth than assumed' : 'fills slipped less than predicted: more depth than assumed',
    });
  }
  return out;
}
