import type { Bar, MarketSpec, RealizedLiquidation } from '../../../src/domain/market-data.js';
import type { MarketSource, MarketTick } from '../../../src/market/market-source.js';

export const BAR_MS = 60_000;

/**
 * A deterministic MarketSource for tests: one bar per minute up to the clock, a price
 * that swings around `basePrice`, open interest that grows. Any venue can be told to
 * fail; every call is counted per symbol.
 */
export class FakeMarketSource implements MarketSource {
  readonly name = 'sim' as const;
  readonly calls = { bars: new Map<string, number>(), ticks: new Map<string, number>() };
  /** Per venue: the error its next calls throw, until cleared. */
  readonly failing = new Map<string, Error>();
  /** Since-arguments of each fetchBars call, per `${symbol}/${venue}`. */
  readonly sinceSeen = new Map<string, (number | undefined)[]>();
  /** Per venue: the realized liquidations it reports (fetchLiquidations serves those after `since` up to the clock). */
  readonly liquidations = new Map<string, RealizedLiquidation[]>();
  /** Per venue: the error its liquidations calls throw, until cleared (bars and ticks still answer). */
  readonly liquidationsFailing = new Map<string, Error>();
  /** Since-arguments of each fetchLiquidations call, per `${symbol}/${venue}`. */
  readonly liquidationsSinceSeen = new Map<string, (number | undefined)[]>();
  /** Per venue: the trading rules its ticks carry (none when unset). */
  readonly specs = new Map<string, MarketSpec | null>();

  private readonly clock: () => number;
  private readonly opts: { venues?: string[]; basePrice?: number; historyBars?: number; start?: number };
  private readonly origin: number;

  constructor(clock: () => number, opts: { venues?: string[]; basePrice?: number; historyBars?: number; start?: number } = {}) {
    this.clock = clock;
    this.opts = opts;
    this.origin = (opts.start ?? clock()) - (opts.historyBars ?? 600) * BAR_MS;
  }

  venues(): string[] {
    return this.opts.venues ?? ['binanceusdm', 'bybit'];
  }

  bar(k: number): Bar {
    const base = this.opts.basePrice ?? 100_000;
    const mid = base * (1 + 0.03 * Math.sin(k / 40) + 0.01 * Math.sin(k / 7));
    const open = base * (1 + 0.03 * Math.sin((k - 1) / 40) + 0.01 * Math.sin((k - 1) / 7));
    return {
      ts: this.origin + k * BAR_MS,
      open,
      high: Math.max(open, mid) * 1.001,
      low: Math.min(open, mid) * 0.999,
      close: mid,
      volume: 100,
      openInterestUsd: 1e9 * (1 + k / 500 + 0.02 * Math.sin(k / 5)),
      fundingRate: 0.0001,
    };
  }

  private count(map: Map<string, number>, symbol: string) {
    map.set(symbol, (map.get(symbol) ?? 0) + 1);
  }

  private check(venue: string) {
    const err = this.failing.get(venue);
    if (err) throw err;
  }

  async fetchBars(symbol: string, venue: string, sinceMs: number | undefined): Promise<Bar[]> {
    this.count(this.calls.bars, symbol);
    const key = `${symbol}/${venue}`;
    this.sinceSeen.set(key, [...(this.sinceSeen.get(key) ?? []), sinceMs]);
    this.check(venue);
    const out: Bar[] = [];
    const lastClosed = Math.floor((this.clock() - this.origin) / BAR_MS) - 1;
    for (let k = 0; k <= lastClosed; k++) {
      const b = this.bar(k);
      if (sinceMs === undefined || b.ts > sinceMs) out.push(b);
    }
    return out;
  }

  async fetchTick(symbol: string, venue: string): Promise<MarketTick> {
    this.count(this.calls.ticks, symbol);
    this.check(venue);
    const k = Math.floor((this.clock() - this.origin) / BAR_MS);
    const mark = this.bar(k).close * (venue === 'bybit' ? 1.0002 : 1);
    const depth = venue === 'binanceusdm' ? 5 : 1;
    return {
      markPrice: mark,
      orderBook: { ts: this.clock(), bids: [{ price: mark - 1, size: depth }], asks: [{ price: mark + 1, size: depth }] },
      ts: this.clock(),
      ...(this.specs.has(venue) ? { spec: this.specs.get(venue) } : {}),
    };
  }

  async fetchLiquidations(symbol: string, venue: string, sinceMs: number | undefined): Promise<RealizedLiquidation[]> {
    const key = `${symbol}/${venue}`;
    this.liquidationsSinceSeen.set(key, [...(this.liquidationsSinceSeen.get(key) ?? []), sinceMs]);
    const err = this.liquidationsFailing.get(venue);
    if (err) throw err;
    const now = this.clock();
    return (this.liquidations.get(venue) ?? []).filter((e) => e.ts > (sinceMs ?? -Infinity) && e.ts <= now);
  }

  async close(): Promise<void> {}
}
