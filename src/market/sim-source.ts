import type { Bar, MarketSpec, OrderBook, OrderBookLevel, RealizedLiquidation } from '../domain/market-data.js';
import { clamp } from '../lib/math.js';
import { liquidationDistance, liquidationPrice } from '../domain/margin.js';
import { UnknownSymbolError, type MarketSource, type MarketTick } from './market-source.js';
import { specNumber } from './market-spec.js';
import { hash32, Prng } from './prng.js';

/** The simulator: a deterministic, seeded synthetic market for demos and tests. Design: docs/market-data.md. */

export interface SimSourceOptions {
  symbols: string[];
  venues: string[];
  barIntervalMs: number;
  seed: number;
  clock: () => number;
  /** Bars generated before the clock at creation (default 2,000). */
  prehistoryBars?: number;
  /** Bars kept per venue for `fetchBars(…, undefined)` (default 5,000). */
  retainBars?: number;
}

interface SymbolProfile {
  price: number;
  /** Total open interest across venues, USD. */
  oiUsd: number;
  /** Long-run per-bar volatility (log return). */
  sigma: number;
  /** Trading rules published on every simulated venue. */
  spec: MarketSpec;
}

const PROFILES: Record<string, SymbolProfile> = {
  BTCUSDT: {
    price: 95_000,
    oiUsd: 30e9,
    sigma: 0.0012,
    spec: { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: 125 },
  },
  ETHUSDT: {
    price: 3_500,
    oiUsd: 15e9,
    sigma: 0.0016,
    spec: { tickSize: 0.01, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 2_000, minNotionalUsd: 20, maxLeverage: 100 },
  },
  SOLUSDT: {
    price: 180,
    oiUsd: 4e9,
    sigma: 0.002,
    spec: { tickSize: 0.01, quantityStep: 1, minQuantity: 1, maxQuantity: 5_000, minNotionalUsd: 5, maxLeverage: 75 },
  },
};

function profileFor(symbol: string): SymbolProfile {
  const known = PROFILES[symbol];
  if (known) return known;
  const h = hash32(symbol);
  const price = 1 + (h % 500);
  const step = specNumber(10 ** Math.round(Math.log10(10 / price)));
  const tick = specNumber(10 ** (Math.floor(Math.log10(price)) - 4));
  const spec = { tickSize: tick, quantityStep: step, minQuantity: step, maxQuantity: null, minNotionalUsd: 5, maxLeverage: 50 };
  return { price, oiUsd: 5e8, sigma: 0.0022, spec };
}

const VENUE_SHARE: Record<string, number> = { binanceusdm: 0.45, bybit: 0.3, okx: 0.25 };

const TIERS = [
  { leverage: 10, weight: 0.35 },
  { leverage: 25, weight: 0.3 },
  { leverage: 50, weight: 0.2 },
  { leverage: 100, weight: 0.15 },
] as const;
const MAINTENANCE_MARGIN = 0.004;
// 8 cohorts a bar: about 750 bars (2.6 days at the 5-minute scale) of positions.
const MAX_COHORTS = 6_000;
const BOOK_LEVELS = 50;
const BOOK_STEP = 0.0002;

/** Depth factor by UTC hour: 1 at 11:00, 0.61 at 21:00, smooth in between. */
export function timeOfDayDepthFactor(tsMs: number): number {
  const d = new Date(tsMs);
  const h = d.getUTCHours() + d.getUTCMinutes() / 60;
  const theta = h >= 11 && h <= 21 ? (Math.PI * (h - 11)) / 10 : Math.PI + (Math.PI * ((h - 21 + 24) % 24)) / 14;
  const weekday = d.getUTCDay();
  const weekend = weekday === 0 || weekday === 6 ? 0.75 : 1;
  return (0.805 + 0.195 * Math.cos(theta)) * weekend;
}

interface Cohort {
  side: 'long' | 'short';
  liqPrice: number;
  notionalUsd: number;
}

interface VenueState {
  name: string;
  share: number;
  basis: number;
  oiNoise: number;
  prng: Prng;
  bars: Bar[];
  /** The venue's share of the sim's own liquidations, oldest first, as far back as `bars`. */
  liquidations: RealizedLiquidation[];
}

/**
 * When within its bar the price reached a cohort's level (ms after the bar's open): the
 * path goes open → wick extreme, so a level nearer the open is crossed earlier. No random
 * draw, so the price path is the same with or without anyone reading liquidations.
 */
function crossingOffsetMs(c: Cohort, open: number, low: number, high: number, intervalMs: number): number {
  const reach = c.side === 'long' ? open - low : high - open;
  const depth = c.side === 'long' ? open - c.liqPrice : c.liqPrice - open;
  const f = reach > 0 ? clamp(depth / reach, 0, 1) : 0;
  return Math.floor(f * 0.9 * (intervalMs - 1));
}


class SymbolSim {
  private readonly prng: Prng;
  private readonly profile: SymbolProfile;
  private readonly logOi0: number;
  /** Index of the next bar to generate. */
  private nextK: number;
  private price: number;
  private sigma2: number;
  private lastReturn = 0;
  /** Per-bar expected log return: the regime's pull or trend plus a small AR(1) wobble. */
  private drift = 0;
  private wobble = 0;
  private readonly logPrice0: number;
  private regime: 'range' | 'trend' = 'range';
  /** Range: log-price centre and pull per bar; trend: drift per bar. */
  private rangeCentre: number;
  private rangePull = 0;
  private trendDrift = 0;
  private logOi: number;
  private crowd = 0;
  private push = 0;
  private cohorts: Cohort[] = [];
  readonly venues = new Map<string, VenueState>();

  get spec(): MarketSpec {
    return this.profile.spec;
  }

  constructor(
    readonly symbol: string,
    venueNames: string[],
    private readonly seed: number,
    private readonly intervalMs: number,
    firstK: number,
    private readonly retain: number,
  ) {
    // The stream depends on the first bar, so each start shows a different market
    // (still a pure function of seed and clock at creation).
    this.prng = new Prng(seed, `sim:${symbol}:${firstK}`);
    this.profile = profileFor(symbol);
    this.price = this.profile.price;
    this.logPrice0 = Math.log(this.price);
    this.rangeCentre = this.logPrice0;
    this.sigma2 = this.profile.sigma ** 2;
    this.logOi0 = Math.log(this.profile.oiUsd);
    this.logOi = this.logOi0;
    this.nextK = firstK;
    const known = venueNames.filter((v) => VENUE_SHARE[v] !== undefined);
    const knownTotal = known.reduce((s, v) => s + (VENUE_SHARE[v] ?? 0), 0);
    for (const v of venueNames) {
      const share =
        known.length === venueNames.length ? (VENUE_SHARE[v] ?? 0) / knownTotal : 1 / venueNames.length;
      this.venues.set(v, { name: v, share, basis: 0, oiNoise: 0, prng: new Prng(seed, `sim:${symbol}:${v}:${firstK}`), bars: [], liquidations: [] });
    }
    this.startRange();
  }

  /**
   * Consolidation: price is pulled back toward the level where the range began, so
   * positions opened inside it pile their liquidation levels into bands on both sides.
   * Half-width 8–22 σ (BTC: 1–2.6 %).
   */
  private startRange(): void {
    const sigma = this.profile.sigma;
    this.regime = 'range';
    this.rangeCentre = Math.log(this.price);
    const sd = (sigma * (8 + 14 * this.prng.next())) / 1.5;
    this.rangePull = Math.min(0.05, sigma ** 2 / (2 * sd ** 2));
  }

  /**
   * A trend of 0.1–0.35 σ a bar. Its direction leans back toward the symbol's profile
   * price, so over days the price wanders around it instead of running away.
   */
  private startTrend(): void {
    const sigma = this.profile.sigma;
    this.regime = 'trend';
    const away = (Math.log(this.price) - this.logPrice0) / (60 * sigma);
    const up = this.prng.next() < 0.5 - 0.5 * Math.tanh(away);
    this.trendDrift = (up ? 1 : -1) * sigma * (0.1 + 0.25 * this.prng.next());
  }

  /** Generates bars up to and including bar `k` (the bar in progress at the clock). */
  advanceTo(k: number): void {
    // After a long pause (a sleeping laptop), skip to the retained window instead of
    // generating days of bars nobody will see; the path continues from its last state.
    if (k - this.nextK > this.retain) this.nextK = k - this.retain;
    while (this.nextK <= k) this.step();
  }

  private step(): void {
    const { prng, profile } = this;
    const ts = this.nextK * this.intervalMs;
    const sigmaLr = profile.sigma;

    // Volatility clustering: GARCH(1,1) around the long-run variance.
    const alpha = 0.08;
    const beta = 0.9;
    this.sigma2 = sigmaLr ** 2 * (1 - alpha - beta) + alpha * this.lastReturn ** 2 + beta * this.sigma2;
    const sigma = Math.sqrt(this.sigma2);
    // Regimes: ranges (mean 300 bars, ~25 h at the 5-minute scale) alternate with
    // trends (mean 120 bars); a small AR(1) wobble keeps neither perfectly regular.
    if (this.regime === 'range' ? prng.next() < 1 / 300 : prng.next() < 1 / 120) {
      if (this.regime === 'range') this.startTrend();
      else this.startRange();
    }
    this.wobble = 0.97 * this.wobble + 0.01 * sigmaLr * prng.normal();
    const regimeDrift =
      this.regime === 'range' ? -this.rangePull * (Math.log(this.price) - this.rangeCentre) : this.trendDrift;
    this.drift = regimeDrift + this.wobble;
    const jump = prng.next() < 0.003 ? 6 * sigmaLr * prng.normal() : 0;
    const r = clamp(this.drift + sigma * prng.normal() + jump + this.push, -0.15, 0.15);
    this.lastReturn = r;

    const open = this.price;
    const close = open * Math.exp(r);
    const high = Math.max(open, close) * Math.exp(Math.abs(prng.normal()) * 0.5 * sigma);
    const low = Math.min(open, close) * Math.exp(-Math.abs(prng.normal()) * 0.5 * sigma);
    this.price = close;

    // Liquidations: a wick through a cohort's level closes it, and the forced orders
    // push the next bar the same way.
    let oiUsd = Math.exp(this.logOi);
    let longLiq = 0;
    let shortLiq = 0;
    const survivors: Cohort[] = [];
    const liquidated: Cohort[] = [];
    for (const c of this.cohorts) {
      if (c.side === 'long' && low <= c.liqPrice) longLiq += c.notionalUsd;
      else if (c.side === 'short' && high >= c.liqPrice) shortLiq += c.notionalUsd;
      else {
        survivors.push(c);
        continue;
      }
      liquidated.push(c);
    }
    this.cohorts = survivors;
    this.push = clamp((0.3 * (shortLiq - longLiq)) / oiUsd, -0.01, 0.01);

    // Open interest: builds in consolidation and with trend strength, flushes on sharp
    // moves and liquidations, and drifts back toward the profile's level.
    const build = this.regime === 'range' ? 0.0004 : 0.002 * (Math.abs(this.trendDrift) / sigmaLr);
    const flush = Math.abs(r) > 2.5 * sigma ? 1.5 * Math.abs(r) : 0;
    const dLogOi =
      build +
      0.0008 * prng.normal() -
      0.002 * (this.logOi - this.logOi0) -
      flush -
      (longLiq + shortLiq) / oiUsd;
    this.logOi += dLogOi;
    oiUsd = Math.exp(this.logOi);

    // Taker flow: buyers dominate when new OI is mostly long; otherwise it follows the move.
    let buyShare = 0.5 + 0.2 * Math.tanh(r / sigma);
    if (dLogOi > 0) {
      const added = oiUsd * (1 - Math.exp(-dLogOi));
      const longShare = clamp(0.5 + 0.25 * Math.sign(r) + 0.25 * Math.tanh((8 * this.drift) / sigmaLr), 0.15, 0.85);
      buyShare = 0.5 + 0.6 * (longShare - 0.5);
      const entry = (high + low + close) / 3;
      for (const t of TIERS) {
        this.cohorts.push({
          side: 'long',
          liqPrice: liquidationPrice('long', entry, liquidationDistance(t.leverage, MAINTENANCE_MARGIN)),
          notionalUsd: added * longShare * t.weight,
        });
        this.cohorts.push({
          side: 'short',
          liqPrice: liquidationPrice('short', entry, liquidationDistance(t.leverage, MAINTENANCE_MARGIN)),
          notionalUsd: added * (1 - longShare) * t.weight,
        });
      }
      if (this.cohorts.length > MAX_COHORTS) this.cohorts.splice(0, this.cohorts.length - MAX_COHORTS);
    } else {
      // Positions closed voluntarily: every cohort shrinks in proportion.
      const keep = Math.exp(dLogOi);
      for (const c of this.cohorts) c.notionalUsd *= keep;
    }

    // Funding follows crowding: the side the trend and new OI favour pays.
    this.crowd = clamp(
      0.99 * this.crowd + 0.01 * Math.tanh((8 * this.drift) / sigmaLr) + 2 * Math.max(dLogOi, 0) * Math.sign(this.drift),
      -1.5,
      1.5,
    );
    const funding = clamp(0.0001 + 0.0004 * this.crowd + 0.00002 * prng.normal(), -0.0075, 0.0075);

    buyShare = clamp(buyShare + 0.03 * prng.normal(), 0.05, 0.95);
    const usdVolume = oiUsd * 0.002 * (1 + (4 * Math.abs(r)) / sigmaLr) * timeOfDayDepthFactor(ts) ** 2;
    for (const v of this.venues.values()) {
      v.basis = 0.9 * v.basis + 0.00015 * v.prng.normal();
      v.oiNoise = 0.95 * v.oiNoise + 0.002 * v.prng.normal();
      const f = Math.exp(v.basis);
      const vClose = close * f;
      const volume = (usdVolume * v.share * (1 + 0.1 * Math.abs(v.prng.normal()))) / vClose;
      const vBuy = clamp(buyShare + 0.02 * v.prng.normal(), 0.02, 0.98);
      v.bars.push({
        ts,
        open: open * f,
        high: high * f,
        low: low * f,
        close: vClose,
        volume,
        openInterestUsd: oiUsd * v.share * Math.exp(v.oiNoise),
        fundingRate: funding + 0.00002 * v.prng.normal(),
        takerBuyVolume: volume * vBuy,
        takerSellVolume: volume * (1 - vBuy),
        // Accounts lean long (as on real venues) and more so when the crowd is long.
        longShortRatio: 1.2 * Math.exp(0.5 * this.crowd + 0.02 * v.prng.normal()),
      });
      if (v.bars.length > this.retain + 1) v.bars.splice(0, v.bars.length - this.retain - 1);
      this.reportLiquidations(v, liquidated, { ts, open, low, high, basis: f });
    }
    this.nextK++;
  }

  /**
   * The venue's share of the cohorts this bar liquidated, as the venue would publish them:
   * one event per cohort at its liquidation price on the venue (basis applied), timed when
   * the bar's path reached it. Shares under 1 USD are dropped (venues publish fills).
   */
  private reportLiquidations(v: VenueState, liquidated: readonly Cohort[], bar: { ts: number; open: number; low: number; high: number; basis: number }): void {
    const events: RealizedLiquidation[] = [];
    for (const c of liquidated) {
      const usd = c.notionalUsd * v.share;
      if (!(usd >= 1)) continue;
      const ts = bar.ts + crossingOffsetMs(c, bar.open, bar.low, bar.high, this.intervalMs);
      events.push({ ts, side: c.side, price: c.liqPrice * bar.basis, usd, venue: v.name });
    }
    v.liquidations.push(...events.sort((a, b) => a.ts - b.ts));
    const oldest = v.bars[0]?.ts ?? bar.ts;
    let drop = 0;
    while (drop < v.liquidations.length && (v.liquidations[drop]?.ts ?? Infinity) < oldest) drop++;
    if (drop > 0) v.liquidations.splice(0, drop);
  }

  /** Liquidation levels with notional, for book thinning (and tests). */
  liquidationLevels(): readonly Cohort[] {
    return this.cohorts;
  }

  book(venue: VenueState, mark: number, nowMs: number, k: number): OrderBook {
    const prng = new Prng(this.seed, `book:${this.symbol}:${venue.name}:${k}`);
    const last = venue.bars[venue.bars.length - 1];
    const oi = last?.openInterestUsd ?? this.profile.oiUsd * venue.share;
    const perLevelUsd = oi * 0.00004 * timeOfDayDepthFactor(nowMs);
    const width = 0.0015 * mark;
    const totalOi = Math.exp(this.logOi);
    const near = this.cohorts.filter((c) => Math.abs(c.liqPrice - mark) < 0.015 * mark);
    const thin = (p: number): number => {
      let density = 0;
      for (const c of near) density += c.notionalUsd * Math.exp(-0.5 * ((p - c.liqPrice) / width) ** 2);
      // A cluster holding 1 % of all open interest within ±0.15 % leaves about 40 % of normal depth.
      return Math.max(0.2, Math.exp((-90 * density) / totalOi));
    };
    const side = (dir: 1 | -1): OrderBookLevel[] => {
      const out: OrderBookLevel[] = [];
      for (let i = 0; i < BOOK_LEVELS; i++) {
        const price = mark * (1 + dir * BOOK_STEP * (i + 0.5));
        const usd = perLevelUsd * (0.8 + 0.4 * prng.next()) * (1 + i / BOOK_LEVELS) * thin(price);
        out.push({ price, size: usd / price });
      }
      return out;
    };
    return { ts: nowMs, bids: side(-1), asks: side(1) };
  }
}

export class SimMarketSource implements MarketSource {
  readonly name = 'sim' as const;
  private readonly sims = new Map<string, SymbolSim>();
  private readonly intervalMs: number;
  private readonly clock: () => number;

  constructor(opts: SimSourceOptions) {
    if (!(opts.barIntervalMs > 0)) throw new Error('sim bar interval must be positive');
    if (opts.venues.length === 0) throw new Error('sim needs at least one venue');
    this.intervalMs = opts.barIntervalMs;
    this.clock = opts.clock;
    const prehistory = opts.prehistoryBars ?? 2_000;
    const retain = Math.max(opts.retainBars ?? 5_000, prehistory);
    const nowK = Math.floor(this.clock() / this.intervalMs);
    for (const s of opts.symbols) {
      const sim = new SymbolSim(s, opts.venues, opts.seed, this.intervalMs, nowK - prehistory, retain);
      sim.advanceTo(nowK);
      this.sims.set(s, sim);
    }
  }

  venues(symbol: string): string[] {
    const sim = this.sims.get(symbol);
    return sim ? [...sim.venues.keys()] : [];
  }

  private venueState(symbol: string, venue: string): { sim: SymbolSim; v: VenueState; nowMs: number; k: number } {
    const sim = this.sims.get(symbol);
    const v = sim?.venues.get(venue);
    if (!sim || !v) throw new UnknownSymbolError(symbol, venue);
    const nowMs = this.clock();
    const k = Math.floor(nowMs / this.intervalMs);
    sim.advanceTo(k);
    return { sim, v, nowMs, k };
  }

  async fetchBars(symbol: string, venue: string, sinceMs: number | undefined): Promise<Bar[]> {
    const { v, nowMs } = this.venueState(symbol, venue);
    const since = sinceMs ?? -Infinity;
    return v.bars.filter((b) => b.ts > since && b.ts + this.intervalMs <= nowMs).map((b) => ({ ...b }));
  }

  async fetchTick(symbol: string, venue: string): Promise<MarketTick> {
    const { sim, v, nowMs, k } = this.venueState(symbol, venue);
    // The bar in progress is already generated; the mark walks from its open to its close.
    const current = v.bars[v.bars.length - 1];
    if (!current) throw new Error(`sim has no bars for ${symbol} on ${venue}`);
    const frac = clamp((nowMs - current.ts) / this.intervalMs, 0, 1);
    const markPrice = current.open + (current.close - current.open) * frac;
    return {
      markPrice,
      fundingRate: current.fundingRate,
      orderBook: sim.book(v, markPrice, nowMs, k),
      ts: nowMs,
      spec: { ...sim.spec },
    };
  }

  /**
   * The sim's own realized liquidations on `venue` after `sinceMs` up to the clock, oldest
   * first: its hidden cohorts that the price reached (see SymbolSim.reportLiquidations).
   */
  async fetchLiquidations(symbol: string, venue: string, sinceMs: number | undefined): Promise<RealizedLiquidation[]> {
    const { v, nowMs } = this.venueState(symbol, venue);
    const since = sinceMs ?? -Infinity;
    return v.liquidations.filter((e) => e.ts > since && e.ts <= nowMs).map((e) => ({ ...e }));
  }

  /** The sim's own liquidation levels (its ground truth), for tests and demos. */
  liquidationLevels(symbol: string): readonly { side: 'long' | 'short'; liqPrice: number; notionalUsd: number }[] {
    return this.sims.get(symbol)?.liquidationLevels() ?? [];
  }

  async close(): Promise<void> {}
}
