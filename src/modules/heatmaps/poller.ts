import type { ServiceMetrics } from '../../metrics.js';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { createHeatmapModel, type HeatmapParams } from '../../domain/heatmap/index.js';
import type { MaintenanceMargin } from '../../domain/margin.js';
import type { RealizedLiquidation } from '../../domain/market-data.js';
import { DeferredByBudgetError, TransientMarketError, UnknownSymbolError, type MarketSource } from '../../market/market-source.js';
import type { HeatmapSnapshot, HeatmapStore, PutResult } from '../../stores/heatmap-store.js';
import { InvalidSnapshotError } from '../../stores/heatmap-snapshot-schema.js';
import type { PollLeases } from '../../stores/lease.js';
import { within, withTimeout } from '../../lib/async.js';
import { assembleSnapshot, createAssemblyState, lastBarCloseAt, usableLiquidations, type AssemblyState, type VenueFetch } from './snapshot-assembly.js';
import { VenueHealth, type VenueHealthOptions, type VenueStatus } from './venue-health.js';

export interface SymbolPollerOptions {
  symbol: string;
  source: MarketSource;
  store: HeatmapStore;
  leases: PollLeases;
  params: HeatmapParams;
  maintenanceMargin: MaintenanceMargin;
  clock: Clock;
  logger: Logger;
  pollIntervalMs: number;
  venueHealth: VenueHealthOptions;
  /** Longest wait for one venue call; a venue that hangs counts as failed so a poll always ends. */
  venueTimeoutMs: number;
  /**
   * Bar duration: a bar's close is its ts plus this. Undefined: inferred per venue from the
   * spacing of its bars (replay files).
   */
  barMs?: number | undefined;
  /**
   * A venue feeds the map only while now minus the close of its newest ingested bar is at
   * most this. Infinity exempts the source (replay: recorded bars never grow).
   */
  barMaxAgeMs: number;
  /** Called with every snapshot this poller wrote, so the local cache has it without a round trip. */
  onSnapshot(snapshot: HeatmapSnapshot): void;
  /**
   * Called once per poll this replica makes as leader, after the fetch, with every venue's
   * new realized liquidations (possibly none): the one place their consumers hook in.
   */
  onLiquidations?(batch: LiquidationBatch): void;
  /** Called with the status after every poll this replica makes as leader. */
  onStatus?(status: PollerStatus): void;
  /** Counts venue calls by outcome (GET /metrics). */
  metrics?: Pick<ServiceMetrics, 'venuePoll'>;
  random?: () => number;
}

export type PollerRole = 'leader' | 'follower' | 'stopped';

/** One poll's new realized liquidations of one symbol, per venue of the source. */
export interface LiquidationBatch {
  symbol: string;
  /** When the poll observed them (epoch ms). */
  at: number;
  venues: { venue: string; events: readonly RealizedLiquidation[] }[];
}

export interface PollerStatus {
  role: PollerRole;
  /** Instance id of the replica polling this symbol, when known. */
  leader: string | null;
  fencingToken: number | null;
  lastPollAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  /** Polls in a row that produced no heatmap (no venue answered, or the store refused). */
  consecutiveFailures: number;
  venues: PolledVenueStatus[];
}

export interface PolledVenueStatus extends VenueStatus {
  /** Close time (epoch ms) of the newest bar ingested from this venue, or null before any. */
  lastBarCloseAt: number | null;
  /** Whether the venue fed the last heatmap built (fresh bars and a successful call). */
  contributing: boolean;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Keeps one symbol's heatmap fresh while this replica holds the symbol's poll lease.
 * Freshness, contributing venues and the lease: docs/market-data.md ("The poller").
 */
/** How long stop() waits for a poll in flight before abandoning it. */
const STOP_WAIT_MS = 2_000;

function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  return within(p.then(() => undefined, () => undefined), ms, undefined);
}

/**
 * Keeps one symbol's heatmap fresh while this replica holds the symbol's poll lease; the
 * snapshot itself is assembled by `assembleSnapshot` (pure). The rules (freshness follows
 * the data, which venues contribute, lease renewal) are in docs/market-data.md.
 */
export class SymbolPoller {
  readonly symbol: string;
  private role: PollerRole = 'follower';
  private token: number | null = null;
  /** The model and what was learned about bar durations, while this replica leads. */
  private state: AssemblyState | null = null;
  /** Bumped on every leadership change, so a poll started under an old term cannot write. */
  private term = 0;
  private leader: string | null = null;
  private lastPollAt: number | null = null;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private readonly health = new Map<string, VenueHealth>();
  /** Venues that fed the last map written. */
  private contributing = new Set<string>();
  /** When the last successful renewal (or the acquisition) was sent: the lease runs at least ttl from then. */
  private leaseFrom = 0;
  /** The last renewal errored: retry sooner than the usual third of the TTL. */
  private renewRetrying = false;
  private loopTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;
  private readonly random: () => number;
  private readonly log: Logger;

  constructor(private readonly o: SymbolPollerOptions) {
    this.symbol = o.symbol;
    this.random = o.random ?? Math.random;
    this.log = o.logger.child({ symbol: o.symbol });
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  /** One iteration: take the lease when free, then poll if we lead. Never throws. */
  async step(): Promise<void> {
    try {
      if (this.role !== 'leader') await this.tryAcquire();
      if (this.role === 'leader') await this.poll();
    } catch (err) {
      // Store or lease errors: recorded, and the loop carries on.
      this.failures += 1;
      this.lastError = errorMessage(err);
      this.log.warn({ err: this.lastError }, 'heatmap poll failed');
    }
    if (this.role === 'leader') this.o.onStatus?.(this.status());
  }

  /**
   * Extends the lease. Steps down when the lease is definitely not ours any more, or when a
   * renewal error has lasted a whole TTL (it may have expired and been taken). On an error
   * before that it keeps leading: the lease is most likely still ours in Redis.
   */
  async renew(): Promise<boolean> {
    if (this.role !== 'leader') return false;
    const term = this.term;
    const sentAt = this.o.clock();
    let ok: boolean;
    try {
      ok = await this.o.leases.renew(this.symbol);
    } catch (err) {
      if (this.term !== term || this.role !== 'leader') return false;
      this.renewRetrying = true;
      const since = this.o.clock() - this.leaseFrom;
      if (since >= this.o.leases.ttlMs) {
        this.stepDown(`lease not renewed for ${since} ms (ttl ${this.o.leases.ttlMs} ms): ${errorMessage(err)}`);
      } else {
        this.log.warn({ err: errorMessage(err), sinceRenewedMs: since }, 'poll lease renewal failed; still leading, retrying soon');
      }
      return false;
    }
    if (this.term !== term || this.role !== 'leader') return ok;
    this.renewRetrying = false;
    if (ok) this.leaseFrom = sentAt;
    else this.stepDown('poll lease lost (expired or taken by another replica)');
    return ok;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.role === 'stopped') this.role = 'follower';
    const loop = () => {
      if (!this.running) return;
      this.inFlight = this.step().finally(() => {
        this.inFlight = null;
        if (!this.running) return;
        const base = this.role === 'leader' ? this.o.pollIntervalMs : Math.min(this.o.pollIntervalMs, this.o.leases.ttlMs / 4);
        this.loopTimer = setTimeout(loop, base * (0.9 + 0.2 * this.random()));
        this.loopTimer.unref();
      });
    };
    loop();
    const renewLoop = () => {
      if (!this.running) return;
      void this.renew().finally(() => {
        if (!this.running) return;
        this.renewTimer = setTimeout(renewLoop, this.o.leases.ttlMs / (this.renewRetrying ? 10 : 3));
        this.renewTimer.unref();
      });
    };
    this.renewTimer = setTimeout(renewLoop, this.o.leases.ttlMs / 3);
    this.renewTimer.unref();
  }

  /** Stops the loops, waits for an in-flight poll, and gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.loopTimer) clearTimeout(this.loopTimer);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.loopTimer = null;
    this.renewTimer = null;
    // A poll waiting on a venue (up to venueTimeoutMs) must not hold a shutdown past its
    // deadline: wait a little, then end the term, which voids whatever the poll would write.
    if (this.inFlight) await waitAtMost(this.inFlight, STOP_WAIT_MS);
    this.term += 1;
    if (this.role === 'leader') {
      try {
        await this.o.leases.release(this.symbol);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'poll lease release failed; it will expire');
      }
    }
    this.role = 'stopped';
    this.token = null;
    this.state = null;
    this.term += 1;
  }

  status(): PollerStatus {
    return {
      role: this.role,
      leader: this.role === 'leader' ? this.o.leases.instanceId : this.leader,
      fencingToken: this.token,
      lastPollAt: this.lastPollAt,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
      venues: [...this.health.values()].map((h) => {
        const close = this.state ? lastBarCloseAt(this.state, h.venue) : undefined;
        return { ...h.status(), lastBarCloseAt: close ?? null, contributing: this.contributing.has(h.venue) };
      }),
    };
  }

  private async tryAcquire(): Promise<void> {
    const sentAt = this.o.clock();
    const token = await this.o.leases.acquire(this.symbol);
    if (token === null) {
      this.leader = await this.o.leases.holder(this.symbol);
      return;
    }
    this.term += 1;
    this.role = 'leader';
    this.token = token;
    this.leaseFrom = sentAt;
    this.renewRetrying = false;
    this.leader = this.o.leases.instanceId;
    this.state = createAssemblyState(createHeatmapModel(this.symbol, this.o.params, this.o.maintenanceMargin), this.o.barMs, this.o.params.health);
    this.contributing = new Set();
    this.log.info({ fencingToken: token }, 'took the poll lease; loading venue history');
  }

  private stepDown(why: string): void {
    this.log.warn({ why }, 'no longer polling this symbol');
    this.role = 'follower';
    this.token = null;
    this.state = null;
    this.leader = null;
    this.contributing = new Set();
    this.term += 1;
  }

  private healthOf(venue: string): VenueHealth {
    let h = this.health.get(venue);
    if (!h) {
      h = new VenueHealth(venue, this.o.venueHealth, this.o.clock, this.random);
      this.health.set(venue, h);
    }
    return h;
  }

  /** One venue's bars (since the last one ingested) and tick; failures are absorbed into its health. */
  private async fetchVenue(state: AssemblyState, venue: string): Promise<VenueFetch> {
    const h = this.healthOf(venue);
    const out: VenueFetch = { venue, bars: null, tick: null, failure: null };
    if (!h.canAttempt()) {
      this.o.metrics?.venuePoll(venue, 'skipped');
      return out;
    }
    const before = h.breaker;
    try {
      const t = this.o.venueTimeoutMs;
      out.bars = await withTimeout(this.o.source.fetchBars(this.symbol, venue, state.model.lastBarTs(venue)), t, `${venue} bars`).catch((err: unknown) => {
        // The venue's request budget is nearly spent: history waits for a later poll, the tick goes on.
        if (!(err instanceof DeferredByBudgetError)) throw err;
        this.o.metrics?.venuePoll(venue, 'deferred');
        this.log.debug({ venue, err: err.message }, 'history deferred by the request budget');
        return [];
      });
      out.tick = await withTimeout(this.o.source.fetchTick(this.symbol, venue), t, `${venue} tick`);
      out.liquidations = await this.fetchLiquidations(state, venue);
      h.recordSuccess();
      this.o.metrics?.venuePoll(venue, 'ok');
      if (before !== 'closed') this.log.info({ venue }, 'venue answering again; breaker closed');
    } catch (err) {
      this.o.metrics?.venuePoll(venue, 'error');
      if (err instanceof UnknownSymbolError) {
        h.markMisconfigured(err.message);
        this.log.error({ venue }, 'venue does not list this symbol; it will not be called again');
      } else {
        h.recordFailure(errorMessage(err), err instanceof TransientMarketError ? err.retryAfterMs : undefined);
        if (h.breaker === 'open' && before !== 'open') this.log.warn({ venue, err: errorMessage(err) }, 'venue breaker opened');
      }
    }
    return out;
  }

  /**
   * Realized liquidations since the last one seen, best effort: optional data, so a failure
   * is logged and the poll goes on without them (the next poll asks from the same point).
   */
  private async fetchLiquidations(state: AssemblyState, venue: string): Promise<RealizedLiquidation[]> {
    const fetch = this.o.source.fetchLiquidations?.bind(this.o.source);
    if (!fetch) return [];
    try {
      const events = await withTimeout(fetch(this.symbol, venue, state.liquidationsSeen.get(venue)), this.o.venueTimeoutMs, `${venue} liquidations`);
      const { usable, dropped } = usableLiquidations(events, this.o.clock());
      if (dropped > 0) this.log.warn({ venue, dropped }, 'realized liquidations dropped: malformed or dated in the future');
      return usable;
    } catch (err) {
      this.log.warn({ venue, err: errorMessage(err) }, 'realized liquidations unavailable this poll');
      return [];
    }
  }

  private async poll(): Promise<void> {
    const state = this.state;
    const token = this.token;
    const term = this.term;
    if (!state || token === null) return;
    this.lastPollAt = this.o.clock();
    const venues = this.o.source.venues(this.symbol);
    const fetched = await Promise.all(venues.map((v) => this.fetchVenue(state, v)));
    if (this.term !== term) return; // leadership changed while we fetched: this poll is void
    // Events the model has not seen yet, before the assembly marks them seen.
    const batch: LiquidationBatch = {
      symbol: this.symbol,
      at: this.o.clock(),
      venues: fetched.map((f) => {
        const seen = state.liquidationsSeen.get(f.venue) ?? -Infinity;
        return { venue: f.venue, events: (f.liquidations ?? []).filter((e) => e.ts > seen).map((e) => ({ ...e, venue: e.venue ?? f.venue })) };
      }),
    };
    for (const f of fetched) {
      if (f.tick) continue;
      const s = this.healthOf(f.venue).status();
      f.failure = `${s.state}${s.lastError ? ` (${s.lastError})` : ''}`;
    }
    const built = assembleSnapshot(state, {
      symbol: this.symbol,
      source: this.o.source.name,
      now: this.o.clock(),
      barMaxAgeMs: this.o.barMaxAgeMs,
      fetched,
    });
    try {
      this.o.onLiquidations?.(batch);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'realized liquidations consumer failed');
    }
    if (!built.ok) {
      this.failures += 1;
      this.lastError = built.error;
      this.contributing = new Set();
      this.log.warn({ err: this.lastError }, 'no fresh venue data; heatmap not written');
      return;
    }
    const { snapshot } = built;
    let put: PutResult;
    try {
      put = await this.o.store.put(snapshot, { fencingToken: token }); // validates it (the write hop)
    } catch (err) {
      if (!(err instanceof InvalidSnapshotError)) throw err;
      this.failures += 1;
      this.lastError = `built a heatmap with ${err.problem}; not written`;
      this.log.error({ paths: err.paths }, 'invalid heatmap; not written');
      return;
    }
    if (!put.accepted) {
      this.failures += 1;
      this.lastError = 'write fenced off: a newer leader has written';
      if (this.term === term) this.stepDown(this.lastError);
      return;
    }
    if (this.term === term) this.contributing = new Set(built.contributing);
    this.failures = 0;
    this.lastError = null;
    this.lastSuccessAt = snapshot.asOf;
    this.o.onSnapshot({ ...snapshot, version: put.version });
  }
}
