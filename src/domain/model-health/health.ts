import type { Heatmap } from '../heatmap/types.js';
import type { RealizedLiquidation, Side } from '../market-data.js';
import { sweptMassScore } from '../eval/swept-mass.js';
import { binIndex, buildHourBins, scoreHourSide, type LiquidationEvent } from '../eval/price-level.js';
import type { ModelHealthParams } from './params.js';
import type { Confidence, ModelHealth } from './types.js';

/**
 * Live self-scoring of one symbol's heatmaps against the liquidations that followed them,
 * with the offline eval's two definitions (docs/model.md, "Live health and confidence"):
 *
 * - a period starts with a ladder (the heatmap of the poll that opens it, mark = the
 *   period's open) and ends at the first poll at least `periodMinutes` later;
 * - its traded range is [low, high] over the marks polled in it and the realized fills
 *   (every price between two traded prices traded too);
 * - swept mass: per side, the ladder's notional between the open and the extreme it
 *   reached (long: [low, open], short: [open, high]) against the realized USD of that
 *   side, Spearman across the window's periods with a non-zero swept range (eval.ts);
 * - price level: per period and side, Spearman across the traded bins of ladder USD vs
 *   realized USD (src/domain/eval/price-level.ts, `scoreHourSide`), mean over the window.
 *
 * Memory is bounded: one open period (a copy of its ladder and the realized USD per bin)
 * and at most `windowPeriods` closed-period summaries.
 */

interface OpenPeriod {
  start: number;
  open: number;
  binBps: number;
  /** Index of the mark's bin in `long` / `short`. */
  half: number;
  long: Float64Array;
  short: Float64Array;
  low: number;
  high: number;
  /** Realized USD per relative bin index (bin 0 holds the open), per side. */
  realized: Map<number, { long: number; short: number }>;
  events: number;
}

interface ClosedPeriod {
  end: number;
  events: number;
  swept: Record<Side, { range: number; predicted: number; realized: number }>;
  /** Per-side price-level Spearman, null when that side's realized USD did not vary across the traded bins. */
  priceLevel: Record<Side, number | null>;
}

export interface HealthObservation {
  now: number;
  /** The heatmap built this poll, or null when none was (its events still count). */
  heatmap: Heatmap | null;
  /** Realized liquidations reported since the previous observation (any order). */
  events: readonly RealizedLiquidation[];
}

export class ModelHealthTracker {
  private current: OpenPeriod | null = null;
  private readonly closed: ClosedPeriod[] = [];
  /** Events that arrived after their period had closed (not scored). */
  lateEvents = 0;

  constructor(private readonly p: ModelHealthParams) {}

  /** The one call per poll cycle: records the events, closes the period when due, starts the next from this heatmap. */
  observe(o: HealthObservation): ModelHealth {
    const cur = this.current;
    if (cur !== null) {
      for (const e of o.events) this.record(cur, e);
      if (o.heatmap !== null) this.extend(cur, o.heatmap.markPrice);
      if (o.now - cur.start >= this.p.periodMinutes * 60_000) {
        this.close(cur, o.now);
        this.current = null;
      }
    } else {
      this.lateEvents += o.events.length;
    }
    if (this.current === null && o.heatmap !== null) this.current = startPeriod(o.heatmap, o.now);
    // A long outage must not leave old periods in a window that claims to be recent.
    const windowMs = this.p.windowPeriods * this.p.periodMinutes * 60_000;
    while ((this.closed[0]?.end ?? Infinity) < o.now - windowMs) this.closed.shift();
    return this.health();
  }

  /** The rolling health over the closed periods in the window. */
  health(): ModelHealth {
    const p = this.p;
    const events = this.closed.reduce((s, c) => s + c.events, 0);
    const sides: Side[] = ['long', 'short'];
    const sweptScores = sides
      .map((side) => {
        const periods = this.closed.map((c) => c.swept[side]);
        return periods.filter((x) => x.range > 0).length < p.minScoredPeriods ? NaN : sweptMassScore(periods);
      })
      .filter((x) => Number.isFinite(x));
    const levelScores = this.closed.flatMap((c) => sides.map((s) => c.priceLevel[s]).filter((x): x is number => x !== null));
    const sweptMass = sweptScores.length === 0 ? null : mean(sweptScores);
    const priceLevel = levelScores.length < p.minScoredPeriods ? null : mean(levelScores);
    const status =
      events < p.minEvents || sweptMass === null || priceLevel === null
        ? 'unknown'
        : sweptMass >= p.healthyMinSweptMass && priceLevel >= p.healthyMinPriceLevel
          ? 'healthy'
          : 'degraded';
    return { status, sweptMass, priceLevel, events, periods: this.closed.length, windowMs: p.windowPeriods * p.periodMinutes * 60_000 };
  }

  private record(cur: OpenPeriod, e: RealizedLiquidation): void {
    if (!(e.ts >= cur.start) || !(e.price > 0) || !(e.usd >= 0) || !Number.isFinite(e.price) || !Number.isFinite(e.usd)) {
      this.lateEvents += 1;
      return;
    }
    const k = binIndex(e.price, cur.open, cur.binBps);
    const bin = cur.realized.get(k) ?? { long: 0, short: 0 };
    bin[e.side] += e.usd;
    cur.realized.set(k, bin);
    cur.events += 1;
    this.extend(cur, e.price);
  }

  private extend(cur: OpenPeriod, price: number): void {
    if (!(price > 0) || !Number.isFinite(price)) return;
    cur.low = Math.min(cur.low, price);
    cur.high = Math.max(cur.high, price);
  }

  private close(cur: OpenPeriod, end: number): void {
    const ladderAt = (k: number) => ({ long: cur.long[cur.half + k] ?? 0, short: cur.short[cur.half + k] ?? 0 });
    // One event per bin and side carries the bin's realized USD: the same bins and sums as the individual fills.
    const events: LiquidationEvent[] = [];
    for (const [k, usd] of cur.realized) {
      const price = cur.open * (1 + (k * cur.binBps) / 1e4);
      if (usd.long > 0) events.push({ ts: end, side: 'long', price, usd: usd.long });
      if (usd.short > 0) events.push({ ts: end, side: 'short', price, usd: usd.short });
    }
    const { bins } = buildHourBins({
      open: cur.open,
      binBps: cur.binBps,
      ranges: [{ low: cur.low, high: cur.high, duration: end - cur.start }],
      events,
      ladderAt,
    });
    const kLow = binIndex(cur.low, cur.open, cur.binBps);
    const kHigh = binIndex(cur.high, cur.open, cur.binBps);
    let predLong = 0;
    let predShort = 0;
    for (let k = kLow; k <= 0; k++) predLong += ladderAt(k).long;
    for (let k = 0; k <= kHigh; k++) predShort += ladderAt(k).short;
    let realLong = 0;
    let realShort = 0;
    for (const usd of cur.realized.values()) {
      realLong += usd.long;
      realShort += usd.short;
    }
    this.closed.push({
      end,
      events: cur.events,
      swept: {
        long: { range: (cur.open - cur.low) / cur.open, predicted: predLong, realized: realLong },
        short: { range: (cur.high - cur.open) / cur.open, predicted: predShort, realized: realShort },
      },
      priceLevel: { long: scoreHourSide(bins, 'long')?.ladder ?? null, short: scoreHourSide(bins, 'short')?.ladder ?? null },
    });
    while (this.closed.length > this.p.windowPeriods) this.closed.shift();
  }
}

function startPeriod(h: Heatmap, now: number): OpenPeriod {
  const half = (h.bins.length - 1) / 2;
  return {
    start: now,
    open: h.markPrice,
    binBps: h.binBps,
    half,
    long: Float64Array.from(h.bins, (b) => b.longUsd),
    short: Float64Array.from(h.bins, (b) => b.shortUsd),
    low: h.markPrice,
    high: h.markPrice,
    realized: new Map(),
    events: 0,
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;

/** The accuracy part of the confidence (see ModelHealthParams.unknownAccuracy). */
export function accuracyOf(h: ModelHealth, p: ModelHealthParams): number {
  if (h.status === 'healthy') return 1;
  if (h.status === 'unknown' || h.sweptMass === null || h.priceLevel === null) return p.unknownAccuracy;
  const ratio = Math.min(h.sweptMass / p.healthyMinSweptMass, h.priceLevel / p.healthyMinPriceLevel);
  return p.unknownAccuracy * clamp01(ratio);
}

export interface ConfidenceInput {
  heatmap: Heatmap;
  /** Venues that fed this map, and venues configured for the symbol. */
  venuesFresh: number;
  venuesConfigured: number;
  health: ModelHealth;
  params: ModelHealthParams;
}

/**
 * A heatmap's confidence 0..1: the weakest of how much of the book the model can locate,
 * how many of the symbol's venues fed the map, and how well the model has been scoring.
 */
export function confidenceOf(i: ConfidenceInput): Confidence {
  const total = i.heatmap.totalLongUsd + i.heatmap.totalShortUsd;
  const unlocated = i.heatmap.unlocatedUsd;
  // A map that does not say (or has no book) is unlocated as a whole: nothing to trust.
  const unlocatedShare = unlocated === undefined || !(total > 0) ? 1 : clamp01(unlocated / total);
  const venueCoverage = i.venuesConfigured > 0 ? clamp01(i.venuesFresh / i.venuesConfigured) : 0;
  const accuracy = accuracyOf(i.health, i.params);
  return { value: Math.min(1 - unlocatedShare, venueCoverage, accuracy), unlocatedShare, venueCoverage, accuracy };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
