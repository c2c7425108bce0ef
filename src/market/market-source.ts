import type { Bar, MarketSpec, OrderBook, RealizedLiquidation } from '../domain/market-data.js';

export type MarketSourceName = 'sim' | 'ccxt' | 'replay';

/** What a source knows right now about one symbol on one venue. */
export interface MarketTick {
  markPrice: number;
  /** Current funding rate, fraction per 8h, when known. */
  fundingRate?: number | undefined;
  /** Top levels of the book, or null when the venue does not serve one. */
  orderBook: OrderBook | null;
  /** Epoch ms the tick was observed. */
  ts: number;
  /** The venue's trading rules for the symbol; null (or absent) when the source does not publish them. */
  spec?: MarketSpec | null | undefined;
}

/**
 * One interface, three implementations (`ccxt`, simulator, replay).
 * Symbols are service ids such as `BTCUSDT`; venues are ids such as `binanceusdm`.
 */
export interface MarketSource {
  readonly name: MarketSourceName;
  /** Venues this source serves for the symbol. */
  venues(symbol: string): string[];
  /**
   * Closed bars strictly newer than `sinceMs` (all available history within the
   * source's lookback when undefined), oldest first, with open interest and funding merged in.
   */
  fetchBars(symbol: string, venue: string, sinceMs: number | undefined): Promise<Bar[]>;
  fetchTick(symbol: string, venue: string): Promise<MarketTick>;
  /**
   * Realized liquidations of `symbol` on `venue` strictly newer than `sinceMs` (everything
   * the source holds when undefined), oldest first; `side` is the liquidated position's.
   * Only sources that know them have it. A source that streams them buffers what arrived
   * (a bounded window) and starts its stream on the first call, so that call may return none.
   */
  fetchLiquidations?(symbol: string, venue: string, sinceMs: number | undefined): Promise<RealizedLiquidation[]>;
  /**
   * The venue's server time (epoch ms), one request, no retry; only sources that talk to
   * venues have it (the clock offset is measured around this call).
   */
  serverTime?(venue: string): Promise<number>;
  /** Every venue this source may call, for per-venue status (clock, request budget). */
  allVenues?(): string[];
  close(): Promise<void>;
}

/** A symbol the venue does not list: reported, never retried. */
export class UnknownSymbolError extends Error {
  constructor(
    readonly symbol: string,
    readonly venue: string,
  ) {
    super(`symbol ${symbol} is not listed on ${venue}`);
    this.name = 'UnknownSymbolError';
  }
}

/** A failure worth retrying later (network, rate limit, venue unavailable). */
export class TransientMarketError extends Error {
  constructor(
    message: string,
    readonly venue: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransientMarketError';
  }
}

/**
 * History that waits for a later poll because the venue's shared request budget is nearly
 * spent: not a venue failure (nothing is lost: the caller's `sinceMs` does not move).
 */
export class DeferredByBudgetError extends Error {
  constructor(
    readonly venue: string,
    readonly pressure: number,
  ) {
    super(`${venue} request budget ${Math.round(pressure * 100)}% spent; history deferred to a later poll`);
    this.name = 'DeferredByBudgetError';
  }
}
