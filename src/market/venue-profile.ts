import type { Exchange, Liquidation, MarketInterface, OHLCV, OpenInterest } from 'ccxt';

/**
 * Everything the ccxt source knows about one venue, in one object: the ccxt id, which
 * markets to load, page sizes, how each history endpoint is asked, which value fields to
 * read, and the venue's published request limits. The ccxt source holds no venue names;
 * adding a venue is adding a profile (see `venues/`).
 */

import type { Bar, BarTimeframe, RealizedLiquidation, Side } from '../domain/market-data.js';

/** One open-interest observation. */
export interface OiPoint {
  ts: number;
  /** USD value when the venue reports one. */
  valueUsd?: number | undefined;
  /** Base units, when the venue reports them. */
  amount?: number | undefined;
}

/** One window of an open-interest history walk, with what a profile needs to ask for it. */
export interface OiWindowRequest {
  ex: Exchange;
  unified: string;
  /** The OI period: the bar timeframe, or 5m under 1m bars. */
  timeframe: BarTimeframe;
  from: number;
  until: number;
  limit: number;
}

/** One kline as the source merges it: a bar's price part; `takerBuyVolume` where the venue's klines carry it. */
export type KlineRow = Pick<Bar, 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'takerBuyVolume'>;

/** One window of a kline walk. */
export interface KlineWindowRequest {
  ex: Exchange;
  unified: string;
  /** The venue's own market id (BTCUSDT), for raw endpoints. */
  marketId: string;
  timeframe: BarTimeframe;
  from: number;
  until: number;
  limit: number;
}

export interface PageLimits {
  /** Klines per call. */
  ohlcv: number;
  /** Open-interest history rows per call. */
  openInterest: number;
  /** Funding settlements per call. */
  funding: number;
  /** Long/short account ratio rows per call. */
  longShortRatio: number;
}

/** A window of the venue's published request limit (one counter the venue keeps per IP). */
export interface RequestLimit {
  /** Weight (or request count, where every request weighs 1) the venue allows per window. */
  limit: number;
  windowMs: number;
  /** Where the figure is published. */
  source: string;
}

/** What one HTTP request costs, per limit it counts against. */
export type RequestCost = Record<string, number>;

export interface VenueProfile {
  /** ccxt exchange id, also the service's venue id. */
  readonly id: string;
  /** ccxt `fetchMarkets.types`: only the linear swaps, so startup costs one call (two on Bybit). */
  readonly marketTypes: readonly string[];
  readonly pageLimits: PageLimits;
  /**
   * How funding history is walked: `forward` in fixed windows with `until`, or `latest`
   * (one call for the newest settlements; the venue pages only backwards from now).
   */
  readonly fundingHistory: 'forward' | 'latest';
  /** One window of open-interest history, in the venue's value fields. */
  openInterestWindow(req: OiWindowRequest): Promise<OiPoint[]>;
  /**
   * One window of klines: ccxt's unified OHLCV, or the venue's raw endpoint where its rows
   * carry more than OHLCV (Binance: taker buy volume, which the unified form drops).
   */
  klinesWindow(req: KlineWindowRequest): Promise<KlineRow[]>;
  /** The period name and window parameters the venue's long/short ratio endpoint takes. */
  longShortRatioRequest(timeframe: BarTimeframe, from: number, until: number): { period: string; params: Record<string, unknown> };
  /** Market-order quantity cap in the market's amount unit, where the venue publishes one. */
  marketOrderMax(m: MarketInterface): unknown;
  /**
   * Bulk calls that give every symbol's tick in one request: `fundingRates` (funding, and
   * the mark where the venue sends it) and `markPrices` where funding comes without it.
   */
  readonly bulkTicks: readonly ('fundingRates' | 'markPrices')[];
  /** What one REST order book of `depth` levels costs (to decide REST or websocket books). */
  orderBookCost(depth: number): RequestCost;
  /** Levels to ask `watchOrderBook` for, given the levels wanted; undefined: the venue's default public channel. */
  streamBookLimit(depth: number): number | undefined;
  /**
   * Waits for the next update of the venue's public liquidation stream for `unified`
   * (ccxt pro; subscribes on the first call) and resolves with ccxt's parsed liquidations
   * of the symbol (all it has cached: the exchange is built with `newUpdates: false`).
   */
  watchLiquidations(ex: Exchange, unified: string): Promise<unknown>;
  /**
   * The realized liquidations in one of ccxt's parsed liquidations, side being the
   * liquidated POSITION's (venues differ: Binance and OKX publish the liquidation order's
   * side, Bybit the position's). `contractSize`: base units per contract of the market.
   */
  realizedLiquidations(l: Liquidation, contractSize: number): Omit<RealizedLiquidation, 'venue'>[];
  /** Points ccxt pro's public websocket for linear swaps at `url` (tests: a local server). */
  setStreamUrl(ex: Exchange, url: string): void;
  /** The venue's published request limits, by name. */
  readonly requestLimits: Readonly<Record<string, RequestLimit>>;
  /** What a request to `url` costs against each of `requestLimits`. */
  requestCost(url: URL): RequestCost;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : undefined;
};
export { num as finiteNumber };

/** Open-interest history through ccxt's unified `fetchOpenInterestHistory` (per instrument on Binance and Bybit). */
export async function unifiedOpenInterestWindow(req: OiWindowRequest): Promise<OiPoint[]> {
  const rows: OpenInterest[] = await req.ex.fetchOpenInterestHistory(req.unified, req.timeframe, req.from, req.limit, { until: req.until });
  return rows
    .filter((r) => r.timestamp !== undefined)
    .map((r) => ({ ts: Number(r.timestamp), valueUsd: num(r.openInterestValue), amount: num(r.openInterestAmount) }));
}

/** Klines through ccxt's unified `fetchOHLCV` (timestamp, OHLC and volume only). */
export async function unifiedKlinesWindow(req: KlineWindowRequest): Promise<KlineRow[]> {
  const rows: OHLCV[] = await req.ex.fetchOHLCV(req.unified, req.timeframe, req.from, req.limit, { until: req.until });
  return rows.map(([ts, open, high, low, close, volume]) => ({
    ts: Number(ts),
    open: Number(open),
    high: Number(high),
    low: Number(low),
    close: Number(close),
    volume: num(volume),
  }));
}

/** The row limit a request asked for (`limit`/`sz`), or the venue default. */
export function requestedLimit(url: URL, fallback: number): number {
  return num(url.searchParams.get('limit') ?? url.searchParams.get('sz')) ?? fallback;
}

/** The liquidated position's side from the liquidation ORDER's side: a sell closes a long. */
export function positionOfOrder(orderSide: unknown): Side | undefined {
  const s = typeof orderSide === 'string' ? orderSide.toLowerCase() : '';
  return s === 'sell' ? 'long' : s === 'buy' ? 'short' : undefined;
}

/** One realized liquidation from its parts, or none when any part is missing or not positive. */
export function realizedLiquidation(ts: unknown, side: Side | undefined, price: unknown, baseQty: unknown): Omit<RealizedLiquidation, 'venue'>[] {
  const t = num(ts);
  const p = num(price);
  const q = num(baseQty);
  if (t === undefined || side === undefined || p === undefined || q === undefined || !(p > 0) || !(q > 0)) return [];
  return [{ ts: t, side, price: p, usd: p * q }];
}

