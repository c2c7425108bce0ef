import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import type { OrderBook } from '../../domain/market-data.js';
import { createHeatmapModel, type HeatmapModel, type HeatmapParams } from '../../domain/heatmap/index.js';
import { TransientMarketError, UnknownSymbolError, type MarketSource, type MarketTick } from '../../market/market-source.js';
import type { HeatmapSnapshot, HeatmapStore } from '../../stores/heatmap-store.js';
import type { PollLeases } from '../../stores/lease.js';
import { withTimeout } from '../../stores/heatmap-store.redis.js';
import { VenueHealth, type VenueHealthOptions, type VenueStatus } from './venue-health.js';

export interface SymbolPollerOptions {
  symbol: string;
  source: MarketSource;
  store: HeatmapStore;
  leases: PollLeases;
  params: HeatmapParams;
  clock: Clock;
  logger: Logger;
  pollIntervalMs: number;
  venueHealth: VenueHealthOptions;
  /** Longest wait for one venue call; a venue that hangs counts as failed so a poll always ends. */
  venueTimeoutMs: number;
  /** Called with every snapshot this poller wrote, so the local cache has it without a round trip. */
  onSnapshot(snapshot: HeatmapSnapshot): void;
  /** Called with the status after every poll this replica makes as leader. */
  onStatus?(status: PollerStatus): void;
  random?: () => number;
}

export type PollerRole = 'leader' | 'follower' | 'stopped';

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
  venues: VenueStatus[];
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Notional on the top levels of both sides: the "deepest" venue's book is the one we publish. */
function bookDepthUsd(b: OrderBook): number {
  let s = 0;
  for (const l of b.bids) s += l.price * l.size;
  for (const l of b.asks) s += l.price * l.size;
  return s;
}

/**
 * Keeps one symbol's heatmap fresh while this replica holds the symbol's poll lease.
 * The model lives in the leader's memory: on (re)acquiring the lease it starts empty and
 * the first poll fetches each venue's full history; later polls fetch only newer bars.
 * A poll takes a tick from every venue it may call, builds at `now` (asOf = when we
 * observed the market) and writes with the lease's fencing token. Venue failures are
 * absorbed per venue (backoff, breaker); with no venue answering, nothing is written and
 * the last heatmap ages.
 */
export class SymbolPoller {
  readonly symbol: string;
  private role: PollerRole = 'follower';
  private token: number | null = null;
  private model: HeatmapModel | null = null;
  /** Bumped on every leadership change, so a poll started under an old term cannot write. */
  private term = 0;
  private leader: string | null = null;
  private lastPollAt: number | null = null;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private readonly health = new Map<string, VenueHealth>();
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

  /** Extends the lease; on failure stops leading (another replica may already have taken over). */
  async renew(): Promise<boolean> {
    if (this.role !== 'leader') return false;
    const term = this.term;
    let ok = false;
    try {
      ok = await this.o.leases.renew(this.symbol);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'poll lease renewal failed');
    }
    if (!ok && this.term === term && this.role === 'leader') this.stepDown('lease renewal failed');
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
        this.renewTimer = setTimeout(renewLoop, this.o.leases.ttlMs / 3);
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
    if (this.inFlight) await this.inFlight;
    if (this.role === 'leader') {
      try {
        await this.o.leases.release(this.symbol);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'poll lease release failed; it will expire');
      }
    }
    this.role = 'stopped';
    this.token = null;
    this.model = null;
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
      venues: [...this.health.values()].map((h) => h.status()),
    };
  }

  private async tryAcquire(): Promise<void> {
    const token = await this.o.leases.acquire(this.symbol);
    if (token === null) {
      this.leader = await this.o.leases.holder(this.symbol);
      return;
    }
    this.term += 1;
    this.role = 'leader';
    this.token = token;
    this.leader = this.o.leases.instanceId;
    this.model = createHeatmapModel(this.symbol, this.o.params);
    this.log.info({ fencingToken: token }, 'took the poll lease; loading venue history');
  }

  private stepDown(why: string): void {
    this.log.warn({ why }, 'no longer polling this symbol');
    this.role = 'follower';
    this.token = null;
    this.model = null;
    this.leader = null;
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

  private async fetchVenue(model: HeatmapModel, venue: string): Promise<MarketTick | null> {
    const h = this.healthOf(venue);
    if (!h.canAttempt()) return null;
    const before = h.breaker;
    try {
      const t = this.o.venueTimeoutMs;
      const bars = await withTimeout(this.o.source.fetchBars(this.symbol, venue, model.lastBarTs(venue)), t, `${venue} bars`);
      model.ingest(venue, bars);
      const tick = await withTimeout(this.o.source.fetchTick(this.symbol, venue), t, `${venue} tick`);
      h.recordSuccess();
      if (before !== 'closed') this.log.info({ venue }, 'venue answering again; breaker closed');
      return tick;
    } catch (err) {
      if (err instanceof UnknownSymbolError) {
        h.markMisconfigured(err.message);
        this.log.error({ venue }, 'venue does not list this symbol; it will not be called again');
      } else {
        h.recordFailure(errorMessage(err), err instanceof TransientMarketError ? err.retryAfterMs : undefined);
        if (h.breaker === 'open' && before !== 'open') this.log.warn({ venue, err: errorMessage(err) }, 'venue breaker opened');
      }
      return null;
    }
  }

  private async poll(): Promise<void> {
    const model = this.model;
    const token = this.token;
    const term = this.term;
    if (!model || token === null) return;
    this.lastPollAt = this.o.clock();
    const venues = this.o.source.venues(this.symbol);
    const ticks = await Promise.all(venues.map((v) => this.fetchVenue(model, v)));
    const answered = ticks.filter((t): t is MarketTick => t !== null);
    if (answered.length === 0 || model.venues().length === 0) {
      this.failures += 1;
      const why = venues
        .map((v) => {
          const s = this.healthOf(v).status();
          return `${v}: ${s.state}${s.lastError ? ` (${s.lastError})` : ''}`;
        })
        .join('; ');
      this.lastError = answered.length === 0 ? `no venue answered: ${why || 'no venues'}` : 'no bars from any venue yet';
      return;
    }
    const markPrice = median(answered.map((t) => t.markPrice));
    const books = answered.map((t) => t.orderBook).filter((b): b is OrderBook => b !== null);
    const orderBook = books.length > 0 ? books.reduce((a, b) => (bookDepthUsd(b) > bookDepthUsd(a) ? b : a)) : null;
    const now = this.o.clock();
    const heatmap = model.build({ markPrice, now });
    if (this.term !== term) return; // leadership changed while we fetched: this poll is void
    const snapshot = { symbol: this.symbol, asOf: now, source: this.o.source.name, venues: heatmap.venues, heatmap, orderBook };
    const put = await this.o.store.put(snapshot, { fencingToken: token });
    if (!put.accepted) {
      this.failures += 1;
      this.lastError = 'write fenced off: a newer leader has written';
      if (this.term === term) this.stepDown(this.lastError);
      return;
    }
    this.failures = 0;
    this.lastError = null;
    this.lastSuccessAt = now;
    this.o.onSnapshot({ ...snapshot, version: put.version });
  }
}
