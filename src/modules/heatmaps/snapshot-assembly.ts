import { inferIntervalMs, type Bar, type OrderBook, type RealizedLiquidation } from '../../domain/market-data.js';
import type { HeatmapModel } from '../../domain/heatmap/index.js';
import { confidenceOf, ModelHealthParamsSchema, ModelHealthTracker, type ModelHealthParams } from '../../domain/model-health/index.js';
import { median } from '../../lib/math.js';
import { iso } from '../../lib/time.js';
import type { MarketSourceName, MarketTick } from '../../market/market-source.js';
import { mergeSpecs } from '../../market/market-spec.js';
import type { NewHeatmapSnapshot } from '../../stores/heatmap-store.js';

/**
 * The pure half of the poller: from what one poll fetched (bars and a tick per venue), the
 * model's previous state and `now`, the snapshot to write, or why there is none. No
 * timers, leases or stores here; the rules are in docs/market-data.md ("Poller").
 */

/** What the poller keeps between polls for one symbol while it leads. */
export interface AssemblyState {
  model: HeatmapModel;
  /** Bar duration: a bar's close is its ts plus this; undefined to infer per venue (replay). */
  barMs: number | undefined;
  /** Bar duration inferred per venue when `barMs` is undefined. */
  inferredBarMs: Map<string, number>;
  /** The model's live score against realized liquidations, and its parameters. */
  health: ModelHealthTracker;
  healthParams: ModelHealthParams;
  /** Realized liquidations kept for the snapshot (see RECENT_LIQUIDATIONS), newest first. */
  recentLiquidations: RealizedLiquidation[];
  /** Per venue, the newest realized liquidation's ts: the next fetch asks for later ones. */
  liquidationsSeen: Map<string, number>;
}

/**
 * What a snapshot's `recentLiquidations` holds: the realized liquidations of the last six
 * hours (the heatmap page's default window), at most 200, newest first.
 */
export const RECENT_LIQUIDATIONS = { windowMs: 6 * 3_600_000, max: 200 } as const;

/** One venue's outcome in a poll. */
export interface VenueFetch {
  venue: string;
  /** Bars the venue returned (ingested by the assembly), or null when its bars call failed or was skipped. */
  bars: Bar[] | null;
  /** The venue's tick, or null when it failed, was skipped, or its bars call failed. */
  tick: MarketTick | null;
  /** Why the venue gave nothing this poll (its breaker state and last error), when it did not answer. */
  failure: string | null;
  /** Realized liquidations newer than the last seen (empty when the source reports none or the call failed). */
  liquidations?: RealizedLiquidation[] | undefined;
}

export interface AssemblyInput {
  symbol: string;
  source: MarketSourceName;
  now: number;
  /** A venue contributes only while now minus its newest bar's close is at most this. */
  barMaxAgeMs: number;
  fetched: readonly VenueFetch[];
}

export type Assembly =
  | { ok: true; snapshot: NewHeatmapSnapshot; contributing: string[] }
  | { ok: false; error: string };

export function createAssemblyState(
  model: HeatmapModel,
  barMs: number | undefined,
  healthParams: ModelHealthParams = ModelHealthParamsSchema.parse({}),
): AssemblyState {
  return {
    model,
    barMs,
    inferredBarMs: new Map(),
    recentLiquidations: [],
    liquidationsSeen: new Map(),
    health: new ModelHealthTracker(healthParams),
    healthParams,
  };
}

/** Ingests one venue's bars into the model and learns its bar duration when not given. */
export function ingestBars(state: AssemblyState, venue: string, bars: Bar[]): void {
  state.model.ingest(venue, bars);
  if (state.barMs === undefined && !state.inferredBarMs.has(venue) && bars.length >= 2) {
    state.inferredBarMs.set(venue, inferIntervalMs(bars));
  }
}

/** How far past `now` a realized liquidation may be dated (venue clocks run a little ahead). */
export const LIQUIDATION_FUTURE_TOLERANCE_MS = 60_000;

/**
 * The realized liquidations the model may take: a position side, a finite time no later than
 * `now` + LIQUIDATION_FUTURE_TOLERANCE_MS, a positive finite price and USD. The rest are
 * dropped and counted, never let through: an event's time becomes the venue's cursor, and a
 * NaN or far-future cursor would hide every real event after it.
 */
export function usableLiquidations(events: readonly RealizedLiquidation[], now: number): { usable: RealizedLiquidation[]; dropped: number } {
  const positive = (v: number): boolean => Number.isFinite(v) && v > 0;
  const usable = events.filter(
    (e) => (e.side === 'long' || e.side === 'short') && Number.isFinite(e.ts) && e.ts <= now + LIQUIDATION_FUTURE_TOLERANCE_MS && positive(e.price) && positive(e.usd),
  );
  return { usable, dropped: events.length - usable.length };
}

/**
 * Feeds one venue's new realized liquidations to the model (after that poll's bars, so the
 * model is at its newest state) and keeps them for the snapshot: the last
 * RECENT_LIQUIDATIONS.windowMs before `now`, at most RECENT_LIQUIDATIONS.max, newest first.
 * An event without a venue is tagged with the source's venue it came from. Returns the events
 * that were new.
 */
export function takeLiquidations(state: AssemblyState, venue: string, events: readonly RealizedLiquidation[], now: number): RealizedLiquidation[] {
  if (events.length === 0) return [];
  const seen = state.liquidationsSeen.get(venue) ?? -Infinity;
  const fresh = events.filter((e) => e.ts > seen).map((e) => ({ ...e, venue: e.venue ?? venue }));
  if (fresh.length === 0) return [];
  state.model.applyLiquidations(venue, fresh);
  state.liquidationsSeen.set(venue, fresh.reduce((m, e) => Math.max(m, e.ts), seen));
  const from = now - RECENT_LIQUIDATIONS.windowMs;
  state.recentLiquidations = [...state.recentLiquidations, ...fresh]
    .filter((e) => e.ts >= from)
    .sort((a, b) => b.ts - a.ts)
    .slice(0, RECENT_LIQUIDATIONS.max);
  return fresh;
}

/** Close time of the newest bar ingested from a venue, when its bar duration is known. */
export function lastBarCloseAt(state: AssemblyState, venue: string): number | undefined {
  const ts = state.model.lastBarTs(venue);
  const barMs = state.barMs ?? state.inferredBarMs.get(venue);
  return ts === undefined || barMs === undefined ? undefined : ts + barMs;
}

/** Notional on the top levels of both sides: the "deepest" venue's book is the one we publish. */
export function bookDepthUsd(b: OrderBook): number {
  let s = 0;
  for (const l of b.bids) s += l.price * l.size;
  for (const l of b.asks) s += l.price * l.size;
  return s;
}

/**
 * Ingests every venue's bars into the state's model, then builds the snapshot from the
 * venues that contribute (answered this poll and have fresh bars).
 */
export function assembleSnapshot(state: AssemblyState, input: AssemblyInput): Assembly {
  const { now, barMaxAgeMs, fetched } = input;
  for (const f of fetched) if (f.bars) ingestBars(state, f.venue, f.bars);
  // New to the model; the live health scores them against the maps built before them.
  const realized = fetched.flatMap((f) => takeLiquidations(state, f.venue, f.liquidations ?? [], now));
  // Age out what fell out of the window even when nothing new came.
  const from = now - RECENT_LIQUIDATIONS.windowMs;
  state.recentLiquidations = state.recentLiquidations.filter((e) => e.ts >= from);
  const fresh: { venue: string; tick: MarketTick; closeAt: number }[] = [];
  const staleWhy: string[] = [];
  for (const { venue, tick } of fetched) {
    if (!tick) continue;
    const closeAt = lastBarCloseAt(state, venue);
    if (closeAt !== undefined && now - closeAt <= barMaxAgeMs) fresh.push({ venue, tick, closeAt });
    else staleWhy.push(`${venue}: ${closeAt === undefined ? 'no bars' : `last bar closed ${iso(closeAt)}`}`);
  }
  if (fresh.length === 0) {
    // No map this poll: the realized liquidations still belong to the period in progress.
    state.health.observe({ now, heatmap: null, events: realized });
    const failed = fetched.filter((f) => !f.tick).map((f) => `${f.venue}: ${f.failure ?? 'no answer'}`);
    return {
      ok: false,
      error:
        staleWhy.length > 0
          ? `no venue has bars newer than ${barMaxAgeMs} ms: ${[...staleWhy, ...failed].join('; ')}`
          : `no venue answered: ${failed.join('; ') || 'no venues'}`,
    };
  }
  const markPrice = median(fresh.map((f) => f.tick.markPrice)) ?? NaN;
  const books = fresh.map((f) => f.tick.orderBook).filter((b): b is OrderBook => b !== null);
  const orderBook = books.length > 0 ? books.reduce((a, b) => (bookDepthUsd(b) > bookDepthUsd(a) ? b : a)) : null;
  const heatmap = state.model.build({ markPrice, now, venues: fresh.map((f) => f.venue), orderBook });
  const health = state.health.observe({ now, heatmap, events: realized });
  const confidence = confidenceOf({ heatmap, venuesFresh: fresh.length, venuesConfigured: fetched.length, health, params: state.healthParams });
  const dataAsOf = Math.min(...fresh.map((f) => f.closeAt));
  const spec = mergeSpecs(fresh.map((f) => f.tick.spec));
  const recent = state.recentLiquidations.map((e) => ({ ...e }));
  const snapshot = {
    symbol: input.symbol,
    asOf: now,
    dataAsOf,
    source: input.source,
    venues: heatmap.venues,
    heatmap,
    orderBook,
    spec,
    ...(recent.length > 0 ? { recentLiquidations: recent } : {}),
    health,
    confidence,
  };
  // Validated once, by the store's write (the poller reports a refusal).
  return { ok: true, snapshot, contributing: heatmap.venues };
}
