import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { withTimeout } from '../../lib/async.js';
import type { TradingState } from '../../domain/pretrade/types.js';
import type { TradingStateEntry, TradingStateSnapshot, TradingStateStore } from '../../stores/trading-state-store.js';
import { stricter, type HaltFile } from './halt-file.js';
import type { TradingStateResponse, TradingStateView } from './schemas.js';

/** A PUT that the store has not confirmed by then answers 503. */
const SET_TIMEOUT_MS = 2_000;

const NEVER_SET: TradingStateView = { state: 'ACTIVE', reason: null, updatedBy: null, updatedAt: null };
const ALL_HALTED: { global: TradingState; symbol: TradingState } = Object.freeze({ global: 'HALTED', symbol: 'HALTED' });

/** How often a PUT waiting for replicas re-reads their acknowledgements. */
const APPLIED_POLL_MS = 20;

/** Which live replicas applied a change (the PUT's answer); `complete` when all of them did. */
export interface Propagation {
  applied: number;
  replicas: number;
  pending: string[];
  complete: boolean;
}

/** This replica's name in the store's acknowledgements, and how long one counts as live. */
export interface ReplicaIdentity {
  id: string;
  /** A replica that has not acknowledged for this long is gone: not waited for, not counted. */
  liveMs: number;
}

export interface TradingStateFreshness {
  clock: Clock;
  /**
   * A copy last read from the store longer ago than this is not trusted: every scope
   * counts as HALTED until a reload succeeds. Infinity when this process is the only
   * writer (the memory store).
   */
  maxAgeMs: number;
}

/** Why every scope counts as HALTED although the store answers (readiness detail, logs). */
export const NOT_INITIALISED =
  'DEGRADED: the trading-state store has no initialisation marker (its keys vanished, or it is new): every scope counts as HALTED until an admin sets the global state (PUT /admin/trading-state without symbol)';

/**
 * The in-memory copy of the kill switch the gate reads on every request (no store
 * round trip). Loaded at start, reloaded when any replica announces a change and
 * periodically (covering a missed announcement), and updated at once by this replica's
 * own writes. Until the first successful load, and whenever the last successful load is
 * older than `maxAgeMs` (this replica is cut off from the store and may have missed a
 * halt), every scope counts as HALTED: the gate does not know whether trading was
 * halted, so only reduce-only orders pass (fail closed).
 */
export class TradingStateCache {
  private snap: TradingStateSnapshot = { initialised: false, version: 0, global: null, symbols: {} };
  private loaded = false;
  /** Clock time of the last successful load; the copy is trusted until `staleAt`. */
  private lastLoadAt = Number.NEGATIVE_INFINITY;
  private staleAt = Number.NEGATIVE_INFINITY;
  /** Bumped by every local write: a reload that started before one is stale and dropped. */
  private generation = 0;

  constructor(
    private readonly store: TradingStateStore,
    private readonly logger: Logger,
    private readonly freshness: TradingStateFreshness = { clock: Date.now, maxAgeMs: Number.POSITIVE_INFINITY },
    /** The break-glass halt file, if configured: it tightens whatever the store says. */
    private readonly haltFile: HaltFile | null = null,
    private readonly replica: ReplicaIdentity = { id: 'local', liveMs: 10_000 },
  ) {}

  /** This replica's id in the acknowledgements. */
  get replicaId(): string {
    return this.replica.id;
  }

  /** Null while the store is initialised (or not read yet); else why every scope counts as HALTED. */
  degradedReason(): string | null {
    return this.loaded && !this.snap.initialised ? NOT_INITIALISED : null;
  }

  /** Null while the copy is usable; otherwise why every scope counts as HALTED. */
  unusableReason(): string | null {
    if (!this.loaded) return 'not yet read from the store (gate treats every scope as HALTED)';
    const ageMs = this.freshness.clock() - this.lastLoadAt;
    if (ageMs <= this.freshness.maxAgeMs) return null;
    return (
      `last read from the store ${Math.round(ageMs / 1_000)} s ago (limit ${this.freshness.maxAgeMs / 1_000} s): ` +
      'gate treats every scope as HALTED until a reload succeeds'
    );
  }

  /** The states the rules use for `symbol`. */
  current(symbol: string): { global: TradingState; symbol: TradingState } {
    // `staleAt` is -Infinity until loaded, so one comparison covers both cases.
    if (this.freshness.clock() > this.staleAt || !this.snap.initialised) return ALL_HALTED;
    const stored = { global: this.snap.global?.state ?? 'ACTIVE', symbol: this.snap.symbols[symbol]?.state ?? 'ACTIVE' };
    if (this.haltFile === null) return stored;
    const file = this.haltFile.current(symbol);
    return {
      global: stricter(stored.global, file.global) ?? 'ACTIVE',
      symbol: stricter(stored.symbol, file.symbol) ?? 'ACTIVE',
    };
  }

  /**
   * Changes whenever what applies to `symbol` may have changed: the effective states, or
   * a new setting of its global or symbol scope (even to the same state). An idempotent
   * replay of an approval made under another tag is not handed out.
   */
  stateTag(symbol: string): string {
    const c = this.current(symbol);
    return `${c.global}@${this.snap.global?.updatedAt ?? ''}|${c.symbol}@${this.snap.symbols[symbol]?.updatedAt ?? ''}`;
  }

  async reload(): Promise<void> {
    const gen = this.generation;
    let next: TradingStateSnapshot;
    try {
      next = await this.store.load();
    } catch (err) {
      const unusable = this.unusableReason();
      this.logger.error(
        { err, loaded: this.loaded, ...(unusable ? { failClosed: unusable } : {}) },
        unusable
          ? 'trading state could not be read from the store; every scope is treated as HALTED'
          : 'trading state could not be read from the store; the last copy still applies',
      );
      return;
    }
    if (gen !== this.generation) return;
    const wasUnusable = this.loaded ? this.unusableReason() : null;
    if (!next.initialised && (this.snap.initialised || !this.loaded)) this.logger.error(NOT_INITIALISED);
    if (next.initialised && !this.snap.initialised && this.loaded) this.logger.warn('trading-state store initialised: the stored states apply');
    this.snap = next;
    this.loaded = true;
    this.lastLoadAt = this.freshness.clock();
    this.staleAt = this.lastLoadAt + this.freshness.maxAgeMs;
    if (wasUnusable) this.logger.warn({ was: wasUnusable }, 'trading state read from the store again; it applies again');
    await this.acknowledge();
  }

  /** Tells the store which version this replica applies (also its heartbeat); best effort. */
  private async acknowledge(): Promise<void> {
    try {
      await this.store.acknowledge(this.replica.id, this.snap.version);
    } catch (err) {
      this.logger.debug({ err }, 'trading-state acknowledgement not written');
    }
  }

  /**
   * Waits until every live replica acknowledged `version` (or a later one), at most
   * `waitMs`, and says which did. A replica that stops acknowledging drops out once its
   * last acknowledgement is older than the live window. When the acknowledgements cannot
   * be read at all, nothing is claimed: 0 of 0, not complete.
   */
  async awaitApplied(version: number, waitMs: number): Promise<Propagation> {
    const deadline = Date.now() + waitMs;
    let last: Propagation = { applied: 0, replicas: 0, pending: [], complete: false };
    for (;;) {
      try {
        const acks = await withTimeout(this.store.acknowledgements(this.replica.liveMs), Math.max(100, waitMs), 'trading-state acknowledgements');
        const pending = acks.filter((a) => a.version < version).map((a) => a.replica).sort();
        last = { applied: acks.length - pending.length, replicas: acks.length, pending, complete: pending.length === 0 };
        if (last.complete) return last;
      } catch (err) {
        this.logger.warn({ err }, 'trading-state acknowledgements could not be read');
      }
      const left = deadline - Date.now();
      if (left <= 0) return last;
      await new Promise((resolve) => setTimeout(resolve, Math.min(APPLIED_POLL_MS, left)));
    }
  }

  /**
   * Writes through to the store; the in-memory copy changes only once the store has it.
   * Rejects when the store fails or does not answer within `timeoutMs`.
   */
  async set(symbol: string | null, entry: TradingStateEntry, timeoutMs = SET_TIMEOUT_MS): Promise<number> {
    const version = await withTimeout(this.store.set(symbol, entry), timeoutMs, 'trading-state store');
    this.generation += 1;
    // Another replica's write may have come between: only the store's version says what this copy lacks.
    if (version !== this.snap.version + 1) void this.reload();
    if (symbol === null) this.snap = { ...this.snap, global: entry, initialised: true };
    else this.snap = { ...this.snap, symbols: { ...this.snap.symbols, [symbol]: entry } };
    this.snap = { ...this.snap, version: Math.max(version, this.snap.version) };
    await this.acknowledge();
    return version;
  }

  view(symbols: readonly string[]): TradingStateResponse {
    const file = this.haltFile?.view();
    return {
      global: this.snap.global ?? NEVER_SET,
      symbols: Object.fromEntries(symbols.map((s) => [s, this.snap.symbols[s] ?? NEVER_SET])),
      loaded: this.loaded,
      initialised: this.snap.initialised,
      haltFile: this.haltFile === null ? null : { path: this.haltFile.path, detail: file?.detail ?? null },
      effective: Object.fromEntries(
        symbols.map((s) => {
          const c = this.current(s);
          return [s, stricter(c.global, c.symbol) ?? 'ACTIVE'];
        }),
      ),
    };
  }
}
