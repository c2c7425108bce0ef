import type { Bar, OrderBook, RealizedLiquidation, Side } from '../market-data.js';
import { buildCascades } from './cascade.js';
import {
  addUniform,
  binOf,
  findClusters,
  ladderGeometry,
  readCrowding,
  scoreRisk,
  smoothSide,
  toBins,
} from './ladder.js';
import { DEFAULT_MAINTENANCE_MARGIN, type MaintenanceMargin } from '../margin.js';
import { leverageTierProblems, type HeatmapParams } from './params.js';
import type { Heatmap } from './types.js';
import { resolveTiers, unlocatedBetween, unlocatedIntervals, VenueBook, type Tier } from './venue-book.js';
import { combineFunding, combineVolatility, VenueSeries } from './venue-series.js';

export { HeatmapParamsSchema, type HeatmapParams } from './params.js';
export type { Heatmap, HeatmapBin, Cluster, Crowding, RiskScore, Volatility, FundingRegime, Cascades, CascadeSide } from './types.js';
export { buildCascades, walkCascade } from './cascade.js';

export interface BuildOptions {
  markPrice: number;
  /** Epoch ms; becomes heatmap.asOf. */
  now: number;
  /** Default from params. */
  rangePct?: number;
  /** Default from params. */
  binBps?: number;
  /**
   * Aggregate only these venues' books (others are ignored, as if never ingested; the
   * heatmap's `venues` lists only those aggregated). Default: every venue ingested.
   */
  venues?: readonly string[];
  /**
   * The order book the cascades walk (docs/model.md, "Cascades"): null for none (every walk
   * runs to the cap). Left out, the map has no `cascades` (the evaluation and benchmarks).
   */
  orderBook?: OrderBook | null;
}

export interface HeatmapModel {
  readonly symbol: string;
  /** Feed closed bars of one venue, oldest first. Bars with ts <= the last ingested ts of that venue are ignored. Incremental: O(new bars), not a rebuild. */
  ingest(venue: string, bars: readonly Bar[]): void;
  lastBarTs(venue: string): number | undefined;
  /** Venues ingested so far. */
  venues(): string[];
  build(opts: BuildOptions): Heatmap;
  /**
   * Realized liquidations reported on `venue` (see `applyRealizedLiquidations`); events
   * older than the venue's newest ingested bar, or of a venue not ingested, are skipped.
   */
  applyLiquidations(venue: string, events: readonly RealizedLiquidation[]): RealizedApplied;
}

/**
 * How far past an event's fill price its notional may be taken (above it for a long, below
 * for a short): fills slip past the liquidation price, which the model only estimates.
 */
export const REALIZED_REACH_BPS = 50;

/** What `applyLiquidations` did with a batch of events. */
export interface RealizedApplied {
  applied: number;
  /** USD matched against what the newest bar's price sweep had already removed (events inside that bar). */
  sweptUsd: number;
  /** Older than the venue's newest ingested bar (its sweep and OI already account for them), unknown venue, or malformed. */
  skipped: number;
  /** USD taken from located cohorts near the events' prices. */
  locatedUsd: number;
  /** USD taken from the unlocated pools (capped at what the ladder places within reach). */
  unlocatedUsd: number;
}

const HOUR_MS = 3_600_000;

class CohortHeatmapModel implements HeatmapModel {
  private readonly books = new Map<string, VenueBook>();
  /** Per venue, beside its book: recent closes and funding samples. */
  private readonly series = new Map<string, VenueSeries>();
  readonly tiers: readonly Tier[];

  constructor(
    readonly symbol: string,
    readonly params: HeatmapParams,
    maintenanceMargin: MaintenanceMargin,
  ) {
    const problems = leverageTierProblems(params, maintenanceMargin);
    if (problems.length > 0) throw new RangeError(problems.map(([i, m]) => `leverage.tiers.${i}: ${m}`).join('; '));
    this.tiers = resolveTiers(params, maintenanceMargin);
  }

  ingest(venue: string, bars: readonly Bar[]): void {
    let book = this.books.get(venue);
    let series = this.series.get(venue);
    for (const bar of bars) {
      if (!book || !series) {
        book = new VenueBook(this.params, this.tiers);
        series = new VenueSeries(this.params);
        this.books.set(venue, book);
        this.series.set(venue, series);
      }
      if (book.lastTs !== undefined && bar.ts <= book.lastTs) continue;
      book.apply(bar);
      series.add(bar);
    }
  }

  lastBarTs(venue: string): number | undefined {
    return this.books.get(venue)?.lastTs;
  }

  applyLiquidations(venue: string, events: readonly RealizedLiquidation[]): RealizedApplied {
    const out: RealizedApplied = { applied: 0, skipped: 0, sweptUsd: 0, locatedUsd: 0, unlocatedUsd: 0 };
    const book = this.books.get(venue);
    const from = book?.lastTs;
    for (const e of [...events].sort((a, b) => a.ts - b.ts)) {
      const wellFormed = Number.isFinite(e.ts) && e.price > 0 && Number.isFinite(e.price) && e.usd > 0 && Number.isFinite(e.usd);
      if (!book || from === undefined || !wellFormed || e.ts < from) {
        out.skipped++;
        continue;
      }
      const taken = book.takeRealized(e, REALIZED_REACH_BPS, this.params.legacy.entrySpreadPct);
      out.applied++;
      out.sweptUsd += taken.swept;
      out.locatedUsd += taken.located;
      out.unlocatedUsd += taken.unlocated;
    }
    return out;
  }

  venues(): string[] {
    return [...this.books.keys()].sort();
  }

  /** Notional of one side whose liquidation price is in [lo, hi], over all venues (unlocated pools anchored at each venue's last close). */
  notionalBetween(side: Side, lo: number, hi: number): number {
    if (!(hi >= lo)) return 0;
    let s = 0;
    const spread = this.params.legacy.entrySpreadPct;
    for (const b of this.books.values()) {
      s += b.locatedBetween(side, lo, hi);
      const pool = side === 'long' ? b.unlocatedLong : b.unlocatedShort;
      s += unlocatedBetween(side, b.lastClose, pool, this.tiers, spread, lo, hi);
    }
    return s;
  }

  memoryBytes(): number {
    let s = 0;
    for (const b of this.books.values()) s += b.bytes();
    for (const v of this.series.values()) s += v.bytes();
    return s;
  }

  build(opts: BuildOptions): Heatmap {
    const p = this.params;
    const g = ladderGeometry(opts.markPrice, opts.rangePct ?? p.rangePct, opts.binBps ?? p.binBps);
    const longs = new Float64Array(g.n);
    const shorts = new Float64Array(g.n);
    const ladderHi = g.lo + g.n * g.width;
    let totalLong = 0;
    let totalShort = 0;
    let unlocated = 0;
    let oi = 0;
    let oiThen = 0;
    const windowStart = opts.now - p.crowding.windowHours * HOUR_MS;
    const only = opts.venues === undefined ? null : new Set(opts.venues);
    const used: { series: VenueSeries; oi: number; latest: number | undefined }[] = [];
    // Books in ingestion order, as before the option existed: the float sums come out the same.
    for (const [venue, b] of this.books) {
      if (only !== null && !only.has(venue)) continue;
      for (const grid of b.longGrids) grid.forEachBetween(g.lo, ladderHi, (price, usd) => addAt(longs, binOf(g, price), usd));
      for (const grid of b.shortGrids) grid.forEachBetween(g.lo, ladderHi, (price, usd) => addAt(shorts, binOf(g, price), usd));
      // Unlocated positions float with the mark: we know how much, not where they entered.
      unlocatedIntervals('long', g.mark, b.unlocatedLong, this.tiers, p.legacy.entrySpreadPct, (a, c, m) => addUniform(g, longs, a, c, m));
      unlocatedIntervals('short', g.mark, b.unlocatedShort, this.tiers, p.legacy.entrySpreadPct, (a, c, m) => addUniform(g, shorts, a, c, m));
      totalLong += b.totalUsd('long');
      totalShort += b.totalUsd('short');
      unlocated += b.unlocatedLong + b.unlocatedShort;
      oi += b.lastOi;
      oiThen += b.oiAt(windowStart);
      const series = this.series.get(venue);
      if (series) used.push({ series, oi: b.lastOi, latest: b.lastFunding });
    }
    const bins = toBins(g, smoothSide(g, 'long', longs, p.smoothingBps), smoothSide(g, 'short', shorts, p.smoothingBps));
    const clusters = findClusters(bins, g.mark, g.binBps, p.cluster);
    const funding = combineFunding(used);
    const oiChangePct = oiThen > 0 ? (oi - oiThen) / oiThen : 0;
    const crowding = readCrowding(funding.rate ?? p.funding.neutral, oiChangePct, p);
    const cascades = opts.orderBook === undefined ? undefined : buildCascades(g.mark, clusters, opts.orderBook, p.cascade);
    const heatmap: Heatmap = {
      symbol: this.symbol,
      venues: only === null ? this.venues() : this.venues().filter((v) => only.has(v)),
      asOf: opts.now,
      markPrice: g.mark,
      binBps: g.binBps,
      rangePct: opts.rangePct ?? p.rangePct,
      bins,
      clusters,
      crowding,
      risk: scoreRisk(clusters, crowding, p.risk, cascades),
      totalLongUsd: totalLong,
      totalShortUsd: totalShort,
      openInterestUsd: oi,
      unlocatedUsd: unlocated,
      volatility: combineVolatility(used.map((u) => u.series)),
      funding,
    };
    if (cascades !== undefined) heatmap.cascades = cascades;
    return heatmap;
  }
}

function addAt(out: Float64Array, k: number, usd: number): void {
  if (k >= 0 && k < out.length) out[k] = (out[k] ?? 0) + usd;
}

/** The model of one symbol. Throws RangeError when a leverage tier is liquidatable as it opens under the maintenance margin. */
export function createHeatmapModel(symbol: string, params: HeatmapParams, maintenanceMargin: MaintenanceMargin = DEFAULT_MAINTENANCE_MARGIN): HeatmapModel {
  return new CohortHeatmapModel(symbol, params, maintenanceMargin);
}

/**
 * Notional of one side whose liquidation price lies in [lo, hi], read straight from the
 * model's cohorts and unlocated pools (no ladder): what a move from hi down to lo (longs)
 * or lo up to hi (shorts) would liquidate. Used by the walk-forward evaluation.
 */
export function notionalBetween(model: HeatmapModel, side: Side, lo: number, hi: number): number {
  if (!(model instanceof CohortHeatmapModel)) throw new TypeError('notionalBetween needs a model from createHeatmapModel');
  return model.notionalBetween(side, lo, hi);
}

/** Bytes of typed-array state the model holds (grids, OI and funding history), for the benchmark. */
export function modelMemoryBytes(model: HeatmapModel): number {
  return model instanceof CohortHeatmapModel ? model.memoryBytes() : 0;
}

/**
 * Re-aggregates a built heatmap's ladder to a coarser bin width and/or a narrower range
 * around its mark, recomputing the bins' probabilities. Each old bin moves whole into the
 * new bin that contains its centre. Clusters, their `major` flags and the risk score are
 * NOT recomputed: they belong to the map as built (the one the gate decides with), so a
 * desk's view at any shape shows the same zones and score as the gate sees. Crowding,
 * volatility and funding are carried over too. Throws RangeError when binBps < h.binBps or
 * rangePct > h.rangePct (it cannot invent resolution or range), or when either is not
 * positive.
 */
export function rebinHeatmap(h: Heatmap, opts: { rangePct: number; binBps: number }): Heatmap {
  const eps = 1e-9;
  if (!(opts.binBps > 0) || opts.binBps < h.binBps * (1 - eps)) {
    throw new RangeError(`binBps must be >= the heatmap's ${h.binBps}, got ${opts.binBps}`);
  }
  if (!(opts.rangePct > 0) || opts.rangePct > h.rangePct * (1 + eps)) {
    throw new RangeError(`rangePct must be in (0, ${h.rangePct}], got ${opts.rangePct}`);
  }
  const g = ladderGeometry(h.markPrice, opts.rangePct, opts.binBps);
  const longs = new Float64Array(g.n);
  const shorts = new Float64Array(g.n);
  for (const b of h.bins) {
    const k = binOf(g, b.price);
    addAt(longs, k, b.longUsd);
    addAt(shorts, k, b.shortUsd);
  }
  return { ...h, binBps: g.binBps, rangePct: opts.rangePct, bins: toBins(g, longs, shorts) };
}
