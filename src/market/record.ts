import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bar, OrderBook, RealizedLiquidation } from '../domain/market-data.js';
import { formatBarsCsv } from './bars-csv.js';
import { formatLiquidationsCsv } from './liquidations-csv.js';
import type { MarketSource } from './market-source.js';

/** Records live bars into the replay format (DIR/<SYMBOL>.csv, .book.csv and .liquidations.csv). Design: docs/market-data.md. */

export interface RecordOptions {
  symbols: string[];
  venues: string[];
  outDir: string;
  /** Record bars strictly after this time (undefined: the source's default lookback). */
  sinceMs?: number | undefined;
  /** Skip the order-book snapshot. */
  noBook?: boolean;
  /**
   * How long to keep listening for realized liquidations after the bars are fetched (ms,
   * default 0): streaming sources deliver only what arrives after their first call.
   */
  listenMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RecordedSymbol {
  symbol: string;
  file: string;
  bars: number;
  bookFile: string | undefined;
  /** Written when the source delivered realized liquidations for the symbol. */
  liquidationsFile?: string | undefined;
  liquidations?: number;
}

/** Combines per-venue bars (each oldest first) into one aggregate series; pure. */
export function aggregateVenueBars(perVenue: readonly (readonly Bar[])[]): Bar[] {
  const [lead, ...rest] = perVenue;
  if (!lead) return [];
  const others = rest.map((bars) => new Map(bars.map((b) => [b.ts, b])));
  const out: Bar[] = [];
  for (const b of lead) {
    const peers = others.map((m) => m.get(b.ts));
    if (peers.some((p) => p === undefined)) continue;
    const all = [b, ...(peers as Bar[])];
    const oi = all.reduce((s, x) => s + x.openInterestUsd, 0);
    const withFunding = all.filter((x) => x.fundingRate !== undefined);
    const fundingOi = withFunding.reduce((s, x) => s + x.openInterestUsd, 0);
    const withVolume = all.filter((x) => x.volume !== undefined);
    const bar: Bar = { ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, openInterestUsd: oi };
    if (withVolume.length === all.length) bar.volume = withVolume.reduce((s, x) => s + (x.volume ?? 0), 0);
    if (withFunding.length > 0 && fundingOi > 0) {
      bar.fundingRate = withFunding.reduce((s, x) => s + (x.fundingRate ?? 0) * x.openInterestUsd, 0) / fundingOi;
    }
    out.push(bar);
  }
  return out;
}

export function formatBookCsv(book: OrderBook): string {
  const rows = [...book.bids.map((l) => `bid,${l.price},${l.size}`), ...book.asks.map((l) => `ask,${l.price},${l.size}`)];
  return `side,price,size\n${rows.map((r) => `${r}\n`).join('')}`;
}

/** Fetches bars for every symbol from every venue and writes the replay files. */
export async function recordBars(source: MarketSource, opts: RecordOptions): Promise<RecordedSymbol[]> {
  if (opts.venues.length === 0) throw new Error('record needs at least one venue');
  await mkdir(opts.outDir, { recursive: true });
  // Realized liquidations: every venue's, each tagged with its venue. A streaming source
  // starts listening on the first call, so ask before the (slow) history walk.
  const liquidations = new Map<string, RealizedLiquidation[]>();
  const collect = async (symbol: string) => {
    if (!source.fetchLiquidations) return;
    const seen = liquidations.get(symbol) ?? [];
    for (const venue of opts.venues) {
      const since = seen.filter((e) => e.venue === venue).reduce<number | undefined>((m, e) => Math.max(m ?? -Infinity, e.ts), opts.sinceMs);
      for (const e of await source.fetchLiquidations(symbol, venue, since)) seen.push({ ...e, venue: e.venue ?? venue });
    }
    liquidations.set(symbol, seen);
  };
  for (const symbol of opts.symbols) await collect(symbol);
  const done: RecordedSymbol[] = [];
  for (const symbol of opts.symbols) {
    const perVenue: Bar[][] = [];
    for (const venue of opts.venues) perVenue.push(await source.fetchBars(symbol, venue, opts.sinceMs));
    const bars = aggregateVenueBars(perVenue);
    const file = join(opts.outDir, `${symbol}.csv`);
    await writeFile(file, formatBarsCsv(bars));
    let bookFile: string | undefined;
    if (!opts.noBook) {
      const tick = await source.fetchTick(symbol, opts.venues[0] as string);
      if (tick.orderBook) {
        bookFile = join(opts.outDir, `${symbol}.book.csv`);
        await writeFile(bookFile, formatBookCsv(tick.orderBook));
      }
    }
    done.push({ symbol, file, bars: bars.length, bookFile });
  }
  if (opts.listenMs !== undefined && opts.listenMs > 0) await (opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(opts.listenMs);
  for (const d of done) {
    await collect(d.symbol);
    const events = (liquidations.get(d.symbol) ?? []).sort((a, b) => a.ts - b.ts);
    if (events.length === 0) continue;
    d.liquidationsFile = join(opts.outDir, `${d.symbol}.liquidations.csv`);
    d.liquidations = events.length;
    await writeFile(d.liquidationsFile, formatLiquidationsCsv(events));
  }
  return done;
}
