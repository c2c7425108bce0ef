import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inferIntervalMs, type Bar, type OrderBook, type OrderBookLevel, type RealizedLiquidation } from '../domain/market-data.js';
import { parseBarsCsv } from './bars-csv.js';
import { parseLiquidationsCsv } from './liquidations-csv.js';
import { UnknownSymbolError, type MarketSource, type MarketTick } from './market-source.js';

/** Replay: serves recorded bars files (`<SYMBOL>.csv`) from a directory as venue `replay`, shifted in time at startup. Design: docs/market-data.md. */

export interface ReplaySourceOptions {
  dir: string;
  symbols: string[];
  clock: () => number;
}

export const REPLAY_VENUE = 'replay';

interface ReplaySeries {
  bars: Bar[];
  book: { bids: OrderBookLevel[]; asks: OrderBookLevel[] } | null;
  /** Realized liquidations, shifted like the bars, oldest first (empty without a file). */
  liquidations: RealizedLiquidation[];
}

export function parseBookCsv(text: string, file: string): { bids: OrderBookLevel[]; asks: OrderBookLevel[] } {
  const bids: OrderBookLevel[] = [];
  const asks: OrderBookLevel[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || (i === 0 && /^side\s*,/i.test(line))) return;
    const [side, p, s] = line.split(',').map((c) => c.trim());
    const price = Number(p);
    const size = Number(s);
    if (!(price > 0) || !(size >= 0) || !Number.isFinite(price) || !Number.isFinite(size)) {
      throw new Error(`${file}:${i + 1}: expected side,price,size with positive numbers`);
    }
    const sd = (side ?? '').toLowerCase();
    if (sd === 'bid' || sd === 'buy') bids.push({ price, size });
    else if (sd === 'ask' || sd === 'sell') asks.push({ price, size });
    else throw new Error(`${file}:${i + 1}: side must be bid or ask, got "${side ?? ''}"`);
  });
  bids.sort((a, b) => b.price - a.price);
  asks.sort((a, b) => a.price - b.price);
  return { bids, asks };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class ReplayMarketSource implements MarketSource {
  readonly name = 'replay' as const;

  private constructor(
    private readonly series: Map<string, ReplaySeries>,
    private readonly clock: () => number,
  ) {}

  static async create(opts: ReplaySourceOptions): Promise<ReplayMarketSource> {
    const series = new Map<string, ReplaySeries>();
    const nowMs = opts.clock();
    for (const symbol of opts.symbols) {
      const file = join(opts.dir, `${symbol}.csv`);
      const text = await readOptional(file);
      if (text === undefined) continue;
      const bars = parseBarsCsv(text, file);
      if (bars.length === 0) continue;
      const interval = inferIntervalMs(bars);
      const newest = bars[bars.length - 1]?.ts ?? 0;
      const shift = Math.floor(nowMs / interval) * interval - (newest + interval);
      const shifted = bars.map((b) => ({ ...b, ts: b.ts + shift }));
      const bookFile = join(opts.dir, `${symbol}.book.csv`);
      const bookText = await readOptional(bookFile);
      const liqFile = join(opts.dir, `${symbol}.liquidations.csv`);
      const liqText = await readOptional(liqFile);
      const liquidations = liqText === undefined ? [] : parseLiquidationsCsv(liqText, liqFile).map((e) => ({ ...e, ts: e.ts + shift }));
      series.set(symbol, { bars: shifted, book: bookText === undefined ? null : parseBookCsv(bookText, bookFile), liquidations });
    }
    return new ReplayMarketSource(series, opts.clock);
  }

  venues(symbol: string): string[] {
    return this.series.has(symbol) ? [REPLAY_VENUE] : [];
  }

  private get(symbol: string, venue: string): ReplaySeries {
    const s = this.series.get(symbol);
    if (!s || venue !== REPLAY_VENUE) throw new UnknownSymbolError(symbol, venue);
    return s;
  }

  async fetchBars(symbol: string, venue: string, sinceMs: number | undefined): Promise<Bar[]> {
    const since = sinceMs ?? -Infinity;
    return this.get(symbol, venue)
      .bars.filter((b) => b.ts > since)
      .map((b) => ({ ...b }));
  }

  async fetchTick(symbol: string, venue: string): Promise<MarketTick> {
    const s = this.get(symbol, venue);
    const last = s.bars[s.bars.length - 1];
    if (!last) throw new UnknownSymbolError(symbol, venue);
    const ts = this.clock();
    const orderBook: OrderBook | null = s.book
      ? { ts, bids: s.book.bids.map((l) => ({ ...l })), asks: s.book.asks.map((l) => ({ ...l })) }
      : null;
    // A recording carries no trading rules: the gate's policy decides (spec null).
    return { markPrice: last.close, fundingRate: last.fundingRate, orderBook, ts, spec: null };
  }

  /** The file's events after `sinceMs`, shifted like the bars; an event shifted past the clock comes out once the clock reaches it. */
  async fetchLiquidations(symbol: string, venue: string, sinceMs: number | undefined): Promise<RealizedLiquidation[]> {
    const since = sinceMs ?? -Infinity;
    const now = this.clock();
    return this.get(symbol, venue)
      .liquidations.filter((e) => e.ts > since && e.ts <= now)
      .map((e) => ({ ...e }));
  }

  async close(): Promise<void> {}
}
