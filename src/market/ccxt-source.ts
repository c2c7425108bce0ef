import { AsyncLocalStorage } from 'node:async_hooks';
import type * as CcxtNamespace from 'ccxt';
import type { Exchange, FundingRateHistory, MarketInterface, OrderBook as CcxtOrderBook } from 'ccxt';
import type { Logger } from 'pino';
import { TIMEFRAME_MS as TF_MS, type Bar, type BarTimeframe, type MarketSpec, type OrderBook, type OrderBookLevel, type RealizedLiquidation } from '../domain/market-data.js';
import { specNumber } from './market-spec.js';
import { DeferredByBudgetError, UnknownSymbolError, type MarketSource, type MarketTick } from './market-source.js';
import { finiteNumber as num, type KlineRow, type OiPoint, type VenueProfile } from './venue-profile.js';
import { venueProfile } from './venues/index.js';
import { RequestBudget } from './request-budget.js';
import { BookStream } from './book-stream.js';
import { LiquidationStream } from './liquidation-stream.js';
import { DEFAULT_RETRY, withRetry, type Classified, type RetryPolicy } from './retry.js';

/**
 * The production source: the venues in `venues/` (one `VenueProfile` each) through ccxt.
 * ccxt is imported lazily in `createCcxtSource` (its import costs about a second and 100+
 * MB); this module's own imports from ccxt are types only. The decisions behind it
 * (lookback, paging, the OI/funding merge, error mapping) are in docs/market-data.md.
 */

export type { BarTimeframe } from '../domain/market-data.js';

export interface CcxtSourceConfig {
  symbols: string[];
  venues: string[];
  timeframe: BarTimeframe;
  /** How often each symbol is polled (ms): sizes the bulk-tick cache and the REST-or-websocket book choice. Default 5,000. */
  pollIntervalMs?: number;
}

export interface CcxtSourceDeps {
  clock: () => number;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  fetchImplementation?: (url: string, init?: unknown) => Promise<Response>;
}

export interface CcxtSourceOptions {
  /** ccxt's own per-instance throttle (default true; tests turn it off). */
  enableRateLimit?: boolean;
  /** First-poll history cap, ms (default min(3 days, 2,000 bars)). */
  lookbackMs?: number;
  /** Order book levels per side (default 50). */
  bookDepth?: number;
  retry?: RetryPolicy;
  /** Extra options merged into every exchange's constructor config. */
  exchangeOptions?: Record<string, unknown>;
  /** Share of each published request limit left unused (default 0.2). */
  safetyMargin?: number;
  /** Above this share of any request budget, history fetches wait for a later poll (default 0.8). */
  historyPressure?: number;
  /** Order books by REST, by websocket (ccxt pro), or `auto`: websocket where REST would not fit (default). */
  books?: 'auto' | 'rest' | 'stream';
  /** Websocket URL per venue (tests: a local server replaying recorded frames). */
  streamUrls?: Record<string, string>;
}

/** Every symbol's mark and funding from one venue's bulk calls, per unified symbol. */
type BulkTicks = Map<string, { markPrice?: number | undefined; fundingRate?: number | undefined; interval?: string | undefined }>;

/** ccxt's precision modes (its exported constants), passed in so this module needs no value import of ccxt. */
export interface PrecisionModes {
  TICK_SIZE: number;
  DECIMAL_PLACES: number;
}

/**
 * A venue's trading rules for one market from ccxt's parsed `precision` and `limits` (see
 * the module comment). Exported for tests.
 */
export function specFromMarket(profile: Pick<VenueProfile, 'marketOrderMax'>, m: MarketInterface, precisionMode: number | undefined, modes: PrecisionModes): MarketSpec {
  const increment = (p: unknown): number | null => {
    if (typeof p !== 'number' || !Number.isFinite(p)) return null;
    if (precisionMode === modes.TICK_SIZE) return specNumber(p);
    if (precisionMode === modes.DECIMAL_PLACES && Number.isInteger(p)) return specNumber(10 ** -p);
    return null; // significant digits: no fixed increment
  };
  const contractSize = specNumber(m.contractSize) ?? 1;
  const base = (amount: number | null): number | null => (amount === null ? null : specNumber(amount * contractSize));
  const step = increment(m.precision.amount);
  const maxes = [specNumber(m.limits.amount?.max), specNumber(profile.marketOrderMax(m))].filter((x): x is number => x !== null);
  return {
    tickSize: increment(m.precision.price),
    quantityStep: base(step),
    minQuantity: base(specNumber(m.limits.amount?.min)),
    maxQuantity: base(maxes.length > 0 ? Math.min(...maxes) : null),
    minNotionalUsd: specNumber(m.limits.cost?.min),
    maxLeverage: specNumber(m.limits.leverage?.max),
  };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_PAGES = 60;

/** `BTCUSDT` → `BTC/USDT:USDT`; undefined for anything that is not a USDT-margined id. */
export function toUnifiedSymbol(symbol: string): string | undefined {
  const m = /^([A-Z0-9]+)USDT$/.exec(symbol);
  return m ? `${m[1]}/USDT:USDT` : undefined;
}

interface RatioPoint {
  ts: number;
  /** Long/short account ratio (longs / shorts). */
  ratio: number;
}

interface FundingPoint {
  ts: number;
  rate: number;
}

/** The last element of `xs` (sorted by ts) with ts ≤ t, by binary search. */
function asOf<T extends { ts: number }>(xs: readonly T[], t: number): T | undefined {
  let lo = 0;
  let hi = xs.length - 1;
  let best: T | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = xs[mid] as T;
    if (x.ts <= t) {
      best = x;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/** Most common spacing between settlements, in hours (8 when unknown). */
export function fundingIntervalHours(points: readonly FundingPoint[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < points.length; i++) {
    const h = Math.round(((points[i]?.ts ?? 0) - (points[i - 1]?.ts ?? 0)) / HOUR);
    if (h >= 1 && h <= 8) counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  let best = 8;
  let bestN = 0;
  for (const [h, n] of counts) if (n > bestN) [best, bestN] = [h, n];
  return best;
}

/**
 * Merges closed OHLCV rows with OI and funding observations into bars (see the module
 * comment for the rules). Pure; exported for tests.
 */
export function mergeBars(
  ohlcv: readonly KlineRow[],
  oi: readonly OiPoint[],
  funding: readonly FundingPoint[],
  tfMs: number,
  oiPeriodMs: number,
  fundingHours: number,
  ratios: readonly RatioPoint[] = [],
): Bar[] {
  const bars: Bar[] = [];
  const lastOiTs = oi.length > 0 ? (oi[oi.length - 1] as OiPoint).ts : -Infinity;
  for (const k of ohlcv) {
    const closeTs = k.ts + tfMs;
    const o = asOf(oi, closeTs);
    if (!o) continue; // older than the venue's OI history
    if (closeTs - o.ts >= oiPeriodMs) {
      // OI not published yet: hold this bar and all later ones back for a later poll.
      if (o.ts === lastOiTs) break;
      continue; // a hole in the venue's OI history
    }
    const oiUsd = o.valueUsd ?? (o.amount !== undefined ? o.amount * k.close : undefined);
    if (oiUsd === undefined || !Number.isFinite(oiUsd)) continue;
    const f = asOf(funding, closeTs);
    const bar: Bar = { ts: k.ts, open: k.open, high: k.high, low: k.low, close: k.close, openInterestUsd: oiUsd };
    if (k.volume !== undefined && Number.isFinite(k.volume)) bar.volume = k.volume;
    // Taker buy volume where the venue's klines carry it; the sell side is the rest of the volume.
    const buy = k.takerBuyVolume;
    if (bar.volume !== undefined && buy !== undefined && Number.isFinite(buy) && buy >= 0 && buy <= bar.volume) {
      bar.takerBuyVolume = buy;
      bar.takerSellVolume = bar.volume - buy;
    }
    if (f) bar.fundingRate = (f.rate * 8) / fundingHours;
    const ls = asOf(ratios, closeTs);
    if (ls && closeTs - ls.ts < oiPeriodMs && ls.ratio > 0) bar.longShortRatio = ls.ratio;
    bars.push(bar);
  }
  return bars;
}

type CcxtModule = typeof CcxtNamespace;

interface VenueClient {
  venue: string;
  profile: VenueProfile;
  ex: Exchange;
  markets: Promise<void> | undefined;
  /** Shared by every request to the venue, ccxt's own (markets, book snapshots) included. */
  budget: RequestBudget;
  /** Bulk ticks of the current poll cycle (one request serves every symbol). */
  bulk: { at: number; ticks: Promise<BulkTicks>; pending: boolean } | undefined;
  /** Books over the venue's websocket, when REST books would not fit the budget. */
  stream: BookStream | undefined;
  /** Whether books come from `stream` (decided once from the profile, the symbol count and the poll interval). */
  booksByStream: boolean;
  /** Realized liquidations over the venue's websocket, opened on the first fetchLiquidations. */
  liquidations: LiquidationStream | undefined;
}

/** What one bar walk asks a per-period history (open interest, long/short ratio) for: the periods from its first bar to its end. */
interface PeriodWindow {
  client: VenueClient;
  symbol: string;
  unified: string;
  firstBarTs: number;
  endTs: number;
  periodMs: number;
}


export class CcxtMarketSource implements MarketSource {
  readonly name = 'ccxt' as const;
  private readonly clients = new Map<string, VenueClient>();
  private readonly tfMs: number;
  private readonly oiTimeframe: BarTimeframe;
  private readonly lookbackMs: number;
  private readonly bookDepth: number;
  private readonly retryPolicy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly fundingHours = new Map<string, number>();
  private readonly precisionModes: PrecisionModes;
  private readonly exchangeConfig = new Map<string, Record<string, unknown>>();
  private readonly pollIntervalMs: number;
  private readonly historyPressure: number;

  constructor(
    private readonly ccxt: CcxtModule,
    private readonly cfg: CcxtSourceConfig,
    private readonly deps: CcxtSourceDeps,
    private readonly opts: CcxtSourceOptions = {},
  ) {
    this.tfMs = TF_MS[cfg.timeframe];
    this.oiTimeframe = cfg.timeframe === '1m' ? '5m' : cfg.timeframe;
    this.lookbackMs = opts.lookbackMs ?? Math.min(3 * DAY, 2_000 * this.tfMs);
    this.bookDepth = opts.bookDepth ?? 50;
    this.pollIntervalMs = cfg.pollIntervalMs ?? 5_000;
    this.historyPressure = opts.historyPressure ?? 0.8;
    this.retryPolicy = opts.retry ?? DEFAULT_RETRY;
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = deps.random ?? Math.random;
    // The module object carries ccxt's number constants (its typings declare them on the default export only).
    const modes = this.ccxt as unknown as Partial<PrecisionModes>;
    if (typeof modes.TICK_SIZE !== 'number' || typeof modes.DECIMAL_PLACES !== 'number') throw new Error('ccxt exports no precision mode constants');
    this.precisionModes = { TICK_SIZE: modes.TICK_SIZE, DECIMAL_PLACES: modes.DECIMAL_PLACES };
    for (const venue of cfg.venues) {
      const profile = venueProfile(venue);
      if (!profile) throw new Error(`ccxt source does not support venue "${venue}"`);
      const Ctor = (this.ccxt as unknown as Record<string, new (config: Record<string, unknown>) => Exchange>)[venue];
      if (!Ctor) throw new Error(`ccxt has no exchange "${venue}"`);
      const config: Record<string, unknown> = {
        enableRateLimit: opts.enableRateLimit ?? true,
        timeout: 10_000,
        options: { fetchCurrencies: false, fetchMarkets: { types: [...profile.marketTypes] } },
        ...opts.exchangeOptions,
      };
      if (deps.fetchImplementation) config.fetchImplementation = deps.fetchImplementation;
      this.exchangeConfig.set(venue, config);
      const budget = new RequestBudget(profile.requestLimits, { clock: deps.clock, sleep: this.sleep, safetyMargin: opts.safetyMargin ?? 0.2 });
      const booksByStream = opts.books === 'stream' || (opts.books !== 'rest' && !restBooksFit(profile, budget, cfg.symbols.length, this.pollIntervalMs, this.bookDepth));
      this.clients.set(venue, { venue, profile, ex: budgeted(new Ctor(config), profile, budget), markets: undefined, budget, bulk: undefined, stream: undefined, booksByStream, liquidations: undefined });
    }
  }

  venues(symbol: string): string[] {
    return this.cfg.symbols.includes(symbol) ? [...this.clients.keys()] : [];
  }

  private classify(client: VenueClient): (err: unknown) => Classified {
    const { ccxt } = this;
    return (err) => {
      if (err instanceof UnknownSymbolError) return { kind: 'unknown-symbol' };
      if (err instanceof ccxt.BadSymbol) return { kind: 'unknown-symbol' };
      // ccxt's recoverable family: NetworkError (rate limit, DDoS protection, exchange not
      // available, maintenance, timeout) and its parent OperationFailed (the venue's own
      // "internal error, try again", e.g. Binance -1001 on a 503).
      if (err instanceof ccxt.OperationFailed) {
        const headers = (client.ex.last_response_headers ?? {}) as Record<string, string | undefined>;
        const hint = num(headers['retry-after'] ?? headers['Retry-After']);
        return {
          kind: 'transient',
          message: `${err.constructor.name}: ${err.message.slice(0, 200)}`,
          retryAfterMs: hint !== undefined && hint >= 0 ? hint * 1000 : undefined,
        };
      }
      return { kind: 'fatal' };
    };
  }

  private call<T>(client: VenueClient, symbol: string, what: string, op: () => Promise<T>): Promise<T> {
    return withRetry(
      op,
      { venue: client.venue, symbol, what },
      this.classify(client),
      { sleep: this.sleep, random: this.random, logger: this.deps.logger },
      this.retryPolicy,
    );
  }

  /** Loads the venue's markets (once) and resolves the service symbol to its unified market. */
  private async resolve(symbol: string, venue: string): Promise<{ client: VenueClient; unified: string; market: MarketInterface; contractSize: number }> {
    const client = this.clients.get(venue);
    if (!client || !this.cfg.symbols.includes(symbol)) throw new UnknownSymbolError(symbol, venue);
    if (!client.markets) {
      client.markets = this.call(client, symbol, 'loadMarkets', async () => {
        // reload: ccxt caches a failed load's promise, so a retry must force a new request.
        await client.ex.loadMarkets(true);
      });
      client.markets.catch(() => {
        client.markets = undefined;
      });
    }
    await client.markets;
    const unified = toUnifiedSymbol(symbol);
    const m = unified ? client.ex.markets?.[unified] : undefined;
    if (!unified || !m || !m.swap || !m.linear || m.active === false) throw new UnknownSymbolError(symbol, venue);
    return { client, unified, market: m, contractSize: m.contractSize ?? 1 };
  }

  /** Walks fixed windows [start, end] oldest first, keeping rows inside each window, deduplicated by ts. */
  private async pageForward<T extends { ts: number }>(
    start: number,
    end: number,
    windowMs: number,
    fetchWindow: (from: number, until: number) => Promise<T[]>,
  ): Promise<T[]> {
    const byTs = new Map<number, T>();
    let pages = 0;
    for (let from = start; from <= end && pages < MAX_PAGES; from += windowMs, pages++) {
      const until = Math.min(from + windowMs - 1, end);
      for (const row of await fetchWindow(from, until)) {
        if (row.ts >= from && row.ts <= until) byTs.set(row.ts, row);
      }
    }
    return [...byTs.values()].sort((a, b) => a.ts - b.ts);
  }

  async fetchBars(symbol: string, venue: string, sinceMs: number | undefined): Promise<Bar[]> {
    const { client } = await this.resolve(symbol, venue);
    return historyLane.run(true, () => this.fetchHistory(client, symbol, sinceMs));
  }

  private async fetchHistory(client: VenueClient, symbol: string, sinceMs: number | undefined): Promise<Bar[]> {
    const { venue } = client;
    const { unified, market } = await this.resolve(symbol, venue);
    const now = this.deps.clock();
    const tfMs = this.tfMs;
    const floor = Math.floor((now - this.lookbackMs) / tfMs) * tfMs;
    const start = sinceMs === undefined ? floor : Math.max(floor, sinceMs + 1);
    const lastClosedOpen = Math.floor(now / tfMs) * tfMs - tfMs;
    if (start > lastClosedOpen) return [];
    // History can wait for a later poll (sinceMs does not move, so nothing is lost); the
    // rest of the budget is kept for ticks and books, which cannot.
    const pressure = client.budget.pressure();
    if (pressure >= this.historyPressure) throw new DeferredByBudgetError(venue, pressure);
    const limits = client.profile.pageLimits;
    const ex = client.ex;

    const klines = await this.pageForward(start, lastClosedOpen, limits.ohlcv * tfMs, async (from, until) => {
      // Ask for the rows the window holds, not the page size: an increment of a few bars
      // then costs the lightest weight (Binance prices klines by the limit asked).
      const limit = Math.min(limits.ohlcv, Math.floor((until - from) / tfMs) + 1);
      return this.call(client, symbol, 'fetchOHLCV', () =>
        client.profile.klinesWindow({ ex, unified, marketId: String(market.id ?? ""), timeframe: this.cfg.timeframe, from, until, limit }),
      );
    });
    const closed = klines.filter((k) => k.ts + tfMs <= now && [k.open, k.high, k.low, k.close].every(Number.isFinite));
    const first = closed[0];
    const last = closed[closed.length - 1];
    if (!first || !last) return [];

    const oiPeriodMs = TF_MS[this.oiTimeframe];
    const perPeriod: PeriodWindow = { client, symbol, unified, firstBarTs: first.ts, endTs: last.ts + tfMs, periodMs: oiPeriodMs };
    const [oi, funding, ratios] = await Promise.all([
      this.fetchOpenInterest(perPeriod),
      this.fetchFunding(client, symbol, unified, first.ts - 9 * HOUR, last.ts + tfMs),
      this.fetchLongShortRatio(perPeriod),
    ]);
    const hours = funding.length >= 2 ? fundingIntervalHours(funding) : (this.fundingHours.get(`${venue}:${symbol}`) ?? 8);
    this.fundingHours.set(`${venue}:${symbol}`, hours);
    return mergeBars(closed, oi, funding, tfMs, oiPeriodMs, hours, ratios);
  }

  /** A per-period history over the window, paged from the period that holds its first bar, `limit` periods a page. */
  private pagePeriods<T extends { ts: number }>(w: PeriodWindow, limit: number, fetchWindow: (from: number, until: number) => Promise<T[]>): Promise<T[]> {
    const start = Math.floor(w.firstBarTs / w.periodMs) * w.periodMs;
    return this.pageForward(start, w.endTs, limit * w.periodMs, fetchWindow);
  }

  /**
   * Long/short account ratio history, best effort: an optional signal for the model, so
   * a failure (after retries) is logged and the bars go out without it.
   */
  private async fetchLongShortRatio(w: PeriodWindow): Promise<RatioPoint[]> {
    const { client, symbol, unified } = w;
    const limit = client.profile.pageLimits.longShortRatio;
    const ex = client.ex;
    try {
      return await this.pagePeriods(w, limit, async (from, until) => {
        const { period, params } = client.profile.longShortRatioRequest(this.oiTimeframe, from, until);
        const rows = await this.call(client, symbol, 'fetchLongShortRatioHistory', () =>
          ex.fetchLongShortRatioHistory(unified, period, from, limit, params),
        );
        return rows
          .map((r) => ({ ts: Number(r.timestamp), ratio: Number(r.longShortRatio) }))
          .filter((r) => Number.isFinite(r.ts) && Number.isFinite(r.ratio));
      });
    } catch (err) {
      this.deps.logger.warn(
        { venue: client.venue, symbol, err: err instanceof Error ? err.message : String(err) },
        'long/short ratio unavailable; bars go out without it',
      );
      return [];
    }
  }

  private async fetchOpenInterest(w: PeriodWindow): Promise<OiPoint[]> {
    const { client, symbol, unified } = w;
    const limit = client.profile.pageLimits.openInterest;
    const ex = client.ex;
    return this.pagePeriods(w, limit, (from, until) =>
      this.call(client, symbol, 'openInterestHistory', () =>
        client.profile.openInterestWindow({ ex, unified, timeframe: this.oiTimeframe, from, until, limit }),
      ),
    );
  }

  private async fetchFunding(
    client: VenueClient,
    symbol: string,
    unified: string,
    start: number,
    endTs: number,
  ): Promise<FundingPoint[]> {
    const limit = client.profile.pageLimits.funding;
    const ex = client.ex;
    const toPoints = (rows: FundingRateHistory[]): FundingPoint[] =>
      rows
        .filter((r) => r.timestamp !== undefined && Number.isFinite(r.fundingRate))
        .map((r) => ({ ts: Number(r.timestamp), rate: Number(r.fundingRate) }))
        .sort((a, b) => a.ts - b.ts);
    if (client.profile.fundingHistory === 'latest') {
      const rows = await this.call(client, symbol, 'fetchFundingRateHistory', () =>
        ex.fetchFundingRateHistory(unified, undefined, limit),
      );
      return toPoints(rows).filter((p) => p.ts <= endTs);
    }
    return this.pageForward(start, endTs, limit * HOUR, async (from, until) =>
      toPoints(
        await this.call(client, symbol, 'fetchFundingRateHistory', () =>
          ex.fetchFundingRateHistory(unified, from, limit, { until }),
        ),
      ),
    );
  }

  /** Every symbol's mark and funding from the venue's bulk calls, one set per `pollIntervalMs / 2`. */
  private bulkTicks(client: VenueClient, symbol: string): Promise<BulkTicks> {
    const now = this.deps.clock();
    // Fresh enough, or still on its way (it may wait for the budget): one bulk call serves all.
    if (client.bulk && (client.bulk.pending || now - client.bulk.at < this.pollIntervalMs / 2)) return client.bulk.ticks;
    const ex = client.ex;
    const ticks = (async () => {
      const out: BulkTicks = new Map();
      const entry = (s: string) => out.get(s) ?? (out.set(s, {}), out.get(s)!);
      for (const kind of client.profile.bulkTicks) {
        if (kind === 'fundingRates') {
          const rates = await this.call(client, symbol, 'fetchFundingRates', () => ex.fetchFundingRates());
          for (const r of Object.values(rates)) {
            if (!r.symbol) continue;
            const e = entry(r.symbol);
            e.fundingRate = num(r.fundingRate);
            e.markPrice ??= num(r.markPrice);
            e.interval = r.interval;
          }
        } else {
          const marks = await this.call(client, symbol, 'fetchMarkPrices', () => ex.fetchMarkPrices());
          for (const t of Object.values(marks)) if (t.symbol) entry(t.symbol).markPrice ??= num(t.markPrice) ?? num(t.last);
        }
      }
      return out;
    })();
    const bulk = { at: now, ticks, pending: true };
    client.bulk = bulk;
    ticks.then(
      () => {
        bulk.pending = false;
        bulk.at = this.deps.clock();
      },
      () => {
        if (client.bulk === bulk) client.bulk = undefined;
      },
    );
    return ticks;
  }

  private async orderBook(client: VenueClient, symbol: string, unified: string): Promise<CcxtOrderBook | null> {
    if (!client.booksByStream) return this.call(client, symbol, 'fetchOrderBook', () => client.ex.fetchOrderBook(unified, this.bookDepth));
    if (!client.stream) client.stream = this.openStream(client);
    const got = await client.stream.read(unified, this.pollIntervalMs);
    // A book older than two polls is not the book now: none rather than a stale one.
    if (!got || this.deps.clock() - got.at > 2 * this.pollIntervalMs) return null;
    return got.book;
  }

  /** A ccxt pro instance of the venue for one stream: the venue's budget, its markets, the configured URL. */
  private proExchange(client: VenueClient, extraOptions: Record<string, unknown> = {}): { ex: Exchange; ready: Promise<unknown> } {
    const Pro = (this.ccxt as unknown as { pro: Record<string, new (config: Record<string, unknown>) => Exchange> }).pro[client.venue];
    if (!Pro) throw new Error(`ccxt pro has no exchange "${client.venue}"`);
    const config = this.exchangeConfig.get(client.venue) ?? {};
    const options = { ...(config.options as Record<string, unknown> | undefined), ...extraOptions };
    const ex = budgeted(new Pro({ ...config, options }), client.profile, client.budget);
    if (client.ex.markets) ex.setMarkets(client.ex.markets);
    const url = this.opts.streamUrls?.[client.venue];
    if (url) client.profile.setStreamUrl(ex, url);
    // ccxt opens plain ws:// (a local server) only after loading its http agent.
    const ready = url?.startsWith('ws://') ? ex.loadHttpProxyAgent() : Promise.resolve();
    return { ex, ready };
  }

  private openStream(client: VenueClient): BookStream {
    const { ex, ready } = this.proExchange(client);
    return new BookStream(ex, client.profile.streamBookLimit(this.bookDepth), { clock: this.deps.clock, logger: this.deps.logger }, ready);
  }

  /**
   * Realized liquidations of the symbol on the venue after `sinceMs`, from the venue's
   * public websocket (the profile's channel): the first call opens the stream and returns
   * what has arrived so far (usually none); later calls return what was buffered since.
   */
  async fetchLiquidations(symbol: string, venue: string, sinceMs: number | undefined): Promise<RealizedLiquidation[]> {
    const { client, unified } = await this.resolve(symbol, venue);
    // Own instance: the book stream's keeps ccxt's default of handing back only new updates.
    if (!client.liquidations) {
      // ccxt keeps 1,000 liquidations by default over every symbol of a shared channel
      // (Binance, OKX): a crash can push that many between two polls.
      const { ex, ready } = this.proExchange(client, { newUpdates: false, liquidationsLimit: 20_000 });
      client.liquidations = new LiquidationStream(ex, client.profile, { logger: this.deps.logger }, ready);
    }
    return client.liquidations.read(unified, sinceMs);
  }

  async fetchTick(symbol: string, venue: string): Promise<MarketTick> {
    const { client, unified, market, contractSize } = await this.resolve(symbol, venue);
    const ex = client.ex;
    const [bulk, ob] = await Promise.all([this.bulkTicks(client, symbol), this.orderBook(client, symbol, unified)]);
    const own = bulk.get(unified);
    let markPrice = own?.markPrice;
    let rate = own?.fundingRate;
    let interval = own?.interval;
    if (!own) {
      // Not in the bulk answer (a venue that leaves some out): ask for this symbol alone.
      const fr = await this.call(client, symbol, 'fetchFundingRate', () => ex.fetchFundingRate(unified));
      markPrice = num(fr.markPrice);
      rate = num(fr.fundingRate);
      interval = fr.interval;
    }
    if (markPrice === undefined) {
      const t = await this.call(client, symbol, 'fetchTicker', () => ex.fetchTicker(unified));
      markPrice = num(t.markPrice) ?? num(t.last);
    }
    if (markPrice === undefined) throw new Error(`${venue} served no mark or last price for ${symbol}`);
    const hours = num(interval?.replace('h', '')) ?? this.fundingHours.get(`${venue}:${symbol}`) ?? 8;
    const levels = (side: [number | undefined, number | undefined][] | undefined): OrderBookLevel[] =>
      (side ?? [])
        .map(([p, s]) => ({ price: Number(p), size: Number(s) * contractSize }))
        .filter((l) => Number.isFinite(l.price) && Number.isFinite(l.size));
    const now = this.deps.clock();
    const orderBook: OrderBook | null = ob
      ? {
          ts: ob.timestamp ?? now,
          bids: levels(ob.bids as [number, number][]).slice(0, this.bookDepth).sort((a, b) => b.price - a.price),
          asks: levels(ob.asks as [number, number][]).slice(0, this.bookDepth).sort((a, b) => a.price - b.price),
        }
      : null;
    const spec = specFromMarket(client.profile, market, ex.precisionMode, this.precisionModes);
    return { markPrice, fundingRate: rate === undefined ? undefined : (rate * 8) / hours, orderBook, ts: now, spec };
  }

  /** Each venue's request budget as spent now, and how often requests had to wait. */
  budgets(): { venue: string; pressure: number; waits: number; waitedMs: number; booksByStream: boolean; limits: ReturnType<RequestBudget['usage']> }[] {
    return [...this.clients.values()].map((c) => ({
      venue: c.venue,
      pressure: c.budget.pressure(),
      waits: c.budget.waits,
      waitedMs: c.budget.waitedMs,
      booksByStream: c.booksByStream,
      limits: c.budget.usage(),
    }));
  }

  allVenues(): string[] {
    return [...this.clients.keys()];
  }

  async serverTime(venue: string): Promise<number> {
    const client = this.clients.get(venue);
    if (!client) throw new Error(`ccxt source does not serve venue "${venue}"`);
    const t = num(await client.ex.fetchTime());
    if (t === undefined) throw new Error(`${venue} served no server time`);
    return t;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].flatMap((c) => [c.ex.close?.().catch(() => undefined), c.stream?.close(), c.liquidations?.close()]));
  }
}

/** Set while a history walk runs: its requests take the budget's background lane. */
const historyLane = new AsyncLocalStorage<true>();

/** Routes every HTTP request of `ex` (ccxt's own included) through the venue's budget, priced by its profile. */
function budgeted(ex: Exchange, profile: VenueProfile, budget: RequestBudget): Exchange {
  const raw = ex.fetch.bind(ex);
  ex.fetch = async (url: string, method?: string, headers?: unknown, body?: unknown) => {
    await budget.take(profile.requestCost(new URL(url)), historyLane.getStore() ? 'background' : 'foreground');
    return raw(url, method, headers, body);
  };
  return ex;
}

/**
 * Whether polling every symbol's book each poll stays within half of each budget the book
 * request counts against (the other half is for history, ticks and retries).
 */
export function restBooksFit(profile: VenueProfile, budget: RequestBudget, symbols: number, pollIntervalMs: number, depth: number): boolean {
  const usage = budget.usage();
  return Object.entries(profile.orderBookCost(depth)).every(([name, weight]) => {
    const u = usage[name];
    if (!u) return true;
    return symbols * weight * (u.windowMs / pollIntervalMs) <= u.budget / 2;
  });
}

/** Imports ccxt (lazily: only this source pays for it) and builds the source. */
export async function createCcxtSource(
  cfg: CcxtSourceConfig,
  deps: CcxtSourceDeps,
  opts: CcxtSourceOptions = {},
): Promise<CcxtMarketSource> {
  const mod = (await import('ccxt')) as CcxtModule & { default?: CcxtModule };
  const ccxt = (mod.default ?? mod) as CcxtModule;
  return new CcxtMarketSource(ccxt, cfg, deps, opts);
}
