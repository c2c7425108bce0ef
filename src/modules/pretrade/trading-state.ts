import type { Logger } from 'pino';
import type { TradingState } from '../../domain/pretrade/types.js';
import type { TradingStateEntry, TradingStateSnapshot, TradingStateStore } from '../../stores/trading-state-store.js';
import type { TradingStateResponse, TradingStateView } from './schemas.js';

/** A PUT that the store has not confirmed by then answers 503. */
const SET_TIMEOUT_MS = 2_000;

const NEVER_SET: TradingStateView = { state: 'ACTIVE', reason: null, updatedBy: null, updatedAt: null };

/**
 * The in-memory copy of the kill switch the gate reads on every request (no store
 * round trip). Loaded at start, reloaded when any replica announces a change and
 * periodically (covering a missed announcement), and updated at once by this replica's
 * own writes. Until the first successful load every scope counts as HALTED: the gate
 * does not know whether trading was halted, so only reduce-only orders pass (fail closed).
 */
export class TradingStateCache {
  private snap: TradingStateSnapshot = { global: null, symbols: {} };
  private loaded = false;
  /** Bumped by every local write: a reload that started before one is stale and dropped. */
  private generation = 0;

  constructor(
    private readonly store: TradingStateStore,
    private readonly logger: Logger,
  ) {}

  isLoaded(): boolean {
    return this.loaded;
  }

  /** The states the rules use for `symbol`. */
  current(symbol: string): { global: TradingState; symbol: TradingState } {
    if (!this.loaded) return { global: 'HALTED', symbol: 'HALTED' };
    return { global: this.snap.global?.state ?? 'ACTIVE', symbol: this.snap.symbols[symbol]?.state ?? 'ACTIVE' };
  }

  async reload(): Promise<void> {
    const gen = this.generation;
    let next: TradingStateSnapshot;
    try {
      next = await this.store.load();
    } catch (err) {
      this.logger.error({ err, loaded: this.loaded }, 'trading state could not be read from the store');
      return;
    }
    if (gen !== this.generation) return;
    this.snap = next;
    this.loaded = true;
  }

  /**
   * Writes through to the store; the in-memory copy changes only once the store has it.
   * Rejects when the store fails or does not answer within `timeoutMs`.
   */
  async set(symbol: string | null, entry: TradingStateEntry, timeoutMs = SET_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`trading-state store did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([this.store.set(symbol, entry), timeout]).finally(() => clearTimeout(timer));
    this.generation += 1;
    if (symbol === null) this.snap = { ...this.snap, global: entry };
    else this.snap = { ...this.snap, symbols: { ...this.snap.symbols, [symbol]: entry } };
  }

  view(symbols: readonly string[]): TradingStateResponse {
    return {
      global: this.snap.global ?? NEVER_SET,
      symbols: Object.fromEntries(symbols.map((s) => [s, this.snap.symbols[s] ?? NEVER_SET])),
      loaded: this.loaded,
    };
  }
}
