import type { RealizedLiquidation, Side } from '../market-data.js';
import { spearman } from '../heatmap/spearman.js';
import { blockBootstrapMean, type BootstrapOptions, type Interval } from './bootstrap.js';

/**
 * Price-level score of a liquidation ladder: per hour and side, across the price bins the
 * hour traded, the rank correlation between the ladder built before the hour and the
 * realized liquidation USD per bin, next to the same score of trivial rules. The rules
 * and conventions are written up in docs/model.md ("Where: the price-level score").
 */

/**
 * Rules the ladder must beat. Distance is |price − open| / open; "side-aware" rules put
 * every bin on the wrong side of the open (above it for longs) below every bin on the
 * right side. `timeAtPrice` (time the hour spent in each bin) is a hindsight ceiling, not
 * a forecast.
 */
export const BASELINES = ['uniform', 'nearer', 'farther', 'sideAwareNearer', 'sideAwareFarther', 'timeAtPrice'] as const;
export type BaselineName = (typeof BASELINES)[number];
/** The baselines that are forecasts from the open alone: "the best distance rule" is chosen among these. */
export const DISTANCE_RULES = ['nearer', 'farther', 'sideAwareNearer', 'sideAwareFarther'] as const satisfies readonly BaselineName[];

/** The traded bins of one hour with what the ladder said and what happened. Arrays are per bin, same order. */
export interface HourBins {
  /** The hour's open: the ladder's mark and the distance rules' reference. */
  open: number;
  /** Bin centres. */
  prices: readonly number[];
  /** Time the hour spent in each bin (any unit). */
  timeAt: readonly number[];
  ladder: Readonly<Record<Side, readonly number[]>>;
  realized: Readonly<Record<Side, readonly number[]>>;
}

export interface SideHourScore {
  ladder: number;
  baselines: Record<BaselineName, number>;
}

/**
 * Spearman, with a constant forecast scoring 0: it ranks nothing, so it carries no
 * information (Spearman itself is undefined there). The realized side must not be constant.
 */
export function rankScore(forecast: readonly number[], realized: readonly number[]): number {
  const r = spearman(forecast, realized);
  return Number.isNaN(r) ? 0 : r;
}

/** Each baseline's forecast for one side over the given bins. */
export function baselineForecasts(side: Side, open: number, prices: readonly number[], timeAt: readonly number[]): Record<BaselineName, number[]> {
  const dist = prices.map((p) => Math.abs(p - open) / open);
  const onSide = prices.map((p) => (side === 'long' ? p <= open : p >= open));
  return {
    uniform: prices.map(() => 1),
    nearer: dist.map((d) => -d),
    farther: dist.map((d) => d),
    // Off-side bins tie at 0, below every on-side bin (on-side values are in (1, 2]).
    sideAwareNearer: dist.map((d, i) => (onSide[i] ? 2 - Math.min(d, 1) : 0)),
    sideAwareFarther: dist.map((d, i) => (onSide[i] ? 1 + Math.min(d, 1) : 0)),
    timeAtPrice: [...timeAt],
  };
}

/** The hour's score for one side, or null when that side's realized liquidations do not vary across the bins (nothing to rank). */
export function scoreHourSide(h: HourBins, side: Side): SideHourScore | null {
  const real = h.realized[side];
  if (real.length < 2 || real.every((v) => v === real[0])) return null;
  const forecasts = baselineForecasts(side, h.open, h.prices, h.timeAt);
  const baselines = {} as Record<BaselineName, number>;
  for (const name of BASELINES) baselines[name] = rankScore(forecasts[name], real);
  return { ladder: rankScore(h.ladder[side], real), baselines };
}

export interface SideSummary {
  hours: number;
  ladderMean: number;
  /** Share of scored hours whose ladder correlation is above zero. */
  shareAboveZero: number;
  /** Per baseline: its mean, the interval of (ladder − baseline), and in how many hours the two scored the same (rank-identical forecasts). */
  versus: Record<BaselineName, { baselineMean: number; diff: Interval; sameHours: number }>;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((s, v) => s + v, 0) / xs.length);

/**
 * Mean over hours and the bootstrap interval of (ladder − baseline) per baseline. Every
 * baseline is resampled with the same seed, so the intervals share their resampled hours.
 */
export function summarisePriceLevel(scores: readonly SideHourScore[], boot: BootstrapOptions): SideSummary {
  const ladder = scores.map((s) => s.ladder);
  const versus = {} as SideSummary['versus'];
  for (const name of BASELINES) {
    const base = scores.map((s) => s.baselines[name]);
    const diffs = ladder.map((v, i) => v - (base[i] ?? 0));
    versus[name] = { baselineMean: mean(base), diff: blockBootstrapMean(diffs, boot), sameHours: diffs.filter((d) => Math.abs(d) < 1e-12).length };
  }
  return {
    hours: scores.length,
    ladderMean: mean(ladder),
    shareAboveZero: scores.length === 0 ? NaN : ladder.filter((v) => v > 0).length / scores.length,
    versus,
  };
}

/** The distance rule with the highest mean in a summary (used on the fit period, then held fixed). */
export function bestDistanceRule(s: SideSummary): (typeof DISTANCE_RULES)[number] {
  let best: (typeof DISTANCE_RULES)[number] = DISTANCE_RULES[0];
  for (const name of DISTANCE_RULES) if (s.versus[name].baselineMean > s.versus[best].baselineMean) best = name;
  return best;
}

/** Relative bin index of `price` on a ladder centred at `mark` with bins of `binBps` (bin 0 holds the mark). */
export function binIndex(price: number, mark: number, binBps: number): number {
  return Math.floor((price - mark) / ((mark * binBps) / 1e4) + 0.5);
}

export interface PriceRange {
  low: number;
  high: number;
  /** Duration the range was traded over (any unit, e.g. ms). */
  duration: number;
}

/**
 * Time spent per bin, from bars: each bar's duration spread uniformly over its [low, high]
 * (a bar with no range puts it all in its one bin). Keys are relative bin indices; only
 * bins some bar traded appear.
 */
export function timeAtBins(ranges: readonly PriceRange[], mark: number, binBps: number): Map<number, number> {
  const width = (mark * binBps) / 1e4;
  const out = new Map<number, number>();
  const add = (k: number, t: number): void => {
    out.set(k, (out.get(k) ?? 0) + t);
  };
  for (const r of ranges) {
    const k0 = binIndex(r.low, mark, binBps);
    const k1 = binIndex(r.high, mark, binBps);
    if (k0 === k1 || !(r.high > r.low)) {
      add(k0, r.duration);
      continue;
    }
    for (let k = k0; k <= k1; k++) {
      const lo = Math.max(r.low, mark + (k - 0.5) * width);
      const hi = Math.min(r.high, mark + (k + 0.5) * width);
      if (hi > lo) add(k, (r.duration * (hi - lo)) / (r.high - r.low));
    }
  }
  return out;
}

/**
 * Intervals covered by a sampled event stream: runs of events with no gap longer than
 * `maxGapMs` between neighbours, as [first, last] times. Input in any order.
 */
export function coveredIntervals(times: readonly number[], maxGapMs: number): Array<[number, number]> {
  const ts = [...times].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const t of ts) {
    const last = out[out.length - 1];
    if (last && t - last[1] <= maxGapMs) last[1] = t;
    else out.push([t, t]);
  }
  return out;
}

/** One realized liquidation (the eval reads them from Binance's event files). */
export type LiquidationEvent = RealizedLiquidation;

export interface HourInput {
  open: number;
  binBps: number;
  /** The hour's bars that count (e.g. those the event stream covered). */
  ranges: readonly PriceRange[];
  /** The hour's events within those bars. */
  events: readonly LiquidationEvent[];
  /** The ladder before the hour at relative bin k (bin 0 holds the open). */
  ladderAt: (k: number) => { long: number; short: number };
}

/**
 * The traded bins of one hour, in price order, with the ladder, the realized USD and
 * the time at each. Events that filled outside every traded bin are counted, not binned.
 */
export function buildHourBins(h: HourInput): { bins: HourBins; eventsOutside: number } {
  const time = timeAtBins(h.ranges, h.open, h.binBps);
  const ks = [...time.keys()].sort((a, b) => a - b);
  const pos = new Map(ks.map((k, i) => [k, i]));
  const realized = { long: ks.map(() => 0), short: ks.map(() => 0) };
  let eventsOutside = 0;
  for (const e of h.events) {
    const i = pos.get(binIndex(e.price, h.open, h.binBps));
    if (i === undefined) eventsOutside++;
    else realized[e.side][i] = (realized[e.side][i] ?? 0) + e.usd;
  }
  const ladder = ks.map((k) => h.ladderAt(k));
  return {
    bins: {
      open: h.open,
      prices: ks.map((k) => h.open * (1 + (k * h.binBps) / 1e4)),
      timeAt: ks.map((k) => time.get(k) ?? 0),
      ladder: { long: ladder.map((l) => l.long), short: ladder.map((l) => l.short) },
      realized,
    },
    eventsOutside,
  };
}
