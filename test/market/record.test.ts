import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bar } from '../../src/domain/market-data.js';
import { formatBarsCsv, parseBarsCsv } from '../../src/market/bars-csv.js';
import { createCcxtSource } from '../../src/market/ccxt-source.js';
import { aggregateVenueBars, recordBars } from '../../src/market/record.js';
import { ReplayMarketSource } from '../../src/market/replay-source.js';

import { parseLiquidationsCsv } from '../../src/market/liquidations-csv.js';
import { buildFakeVenue, FIVE_MIN, NOW, T0 } from './ccxt-fake.js';

// The second (and last) test file that loads ccxt.

const HOSTS: Record<string, string> = { 'fapi.binance.com': 'binanceusdm', 'api.bybit.com': 'bybit' };

async function buildTwoVenueSource() {
  const venues = { binanceusdm: buildFakeVenue('binanceusdm'), bybit: buildFakeVenue('bybit') };
  const fetchImplementation = (url: string) => {
    const venue = HOSTS[new URL(url).hostname] as keyof typeof venues;
    return venues[venue].fetch(url);
  };
  const source = await createCcxtSource(
    { symbols: ['BTCUSDT'], venues: ['binanceusdm', 'bybit'], timeframe: '5m' },
    { clock: () => NOW, logger: pino({ level: 'silent' }), sleep: async () => {}, random: () => 0.5, fetchImplementation },
    { enableRateLimit: false },
  );
  return { source, venues };
}

function buildBar(overrides: Partial<Bar> = {}): Bar {
  return { ts: T0, open: 100, high: 101, low: 99, close: 100.5, openInterestUsd: 1000, volume: 2, fundingRate: 0.0001, ...overrides };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'record-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('recordBars', () => {
  it('when two venues are recorded, then one aggregate bars file and a book snapshot are written and replay reads them', async () => {
    const { source } = await buildTwoVenueSource();
    try {
      const done = await recordBars(source, {
        symbols: ['BTCUSDT'],
        venues: ['binanceusdm', 'bybit'],
        outDir: dir,
        sinceMs: T0 - FIVE_MIN,
      });
      expect(done).toEqual([
        { symbol: 'BTCUSDT', file: join(dir, 'BTCUSDT.csv'), bars: 3, bookFile: join(dir, 'BTCUSDT.book.csv') },
      ]);
      const bars = parseBarsCsv(await readFile(join(dir, 'BTCUSDT.csv'), 'utf8'), 'BTCUSDT.csv');
      // Prices from Binance (the first venue), OI summed: Binance's value + Bybit's amount × close.
      expect(bars[0]?.close).toBe(95050);
      expect(bars[0]?.openInterestUsd).toBeCloseTo(7_615_000_000 + 52100 * 95052, 0);
      expect(bars[0]?.volume).toBeCloseTo(120.5 + 101.002, 9);
      const wBin = 7_615_000_000;
      const wBy = 52100 * 95052;
      expect(bars[0]?.fundingRate).toBeCloseTo((0.00012 * wBin + 0.00005 * wBy) / (wBin + wBy), 12);

      const replay = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => NOW });
      expect((await replay.fetchBars('BTCUSDT', 'replay', undefined)).map((b) => b.close)).toEqual(bars.map((b) => b.close));
      const tick = await replay.fetchTick('BTCUSDT', 'replay');
      expect(tick.orderBook?.bids[0]).toEqual({ price: 94760.4, size: 3.512 });
      expect(tick.orderBook?.asks[0]).toEqual({ price: 94760.5, size: 2.004 });
    } finally {
      await source.close();
    }
  });

  it('when --no-book is asked, then only the bars file is written', async () => {
    const { source, venues } = await buildTwoVenueSource();
    try {
      const [done] = await recordBars(source, { symbols: ['BTCUSDT'], venues: ['bybit'], outDir: dir, sinceMs: T0 - FIVE_MIN, noBook: true });
      expect(done?.bookFile).toBeUndefined();
      expect(venues.bybit.count('orderbook')).toBe(0);
    } finally {
      await source.close();
    }
  });
});

describe('aggregateVenueBars', () => {
  it('when a venue lacks a timestamp, then that timestamp is left out rather than summed over fewer venues', () => {
    const a = [buildBar(), buildBar({ ts: T0 + FIVE_MIN })];
    const b = [buildBar({ ts: T0 + FIVE_MIN, close: 999, openInterestUsd: 3000, fundingRate: 0.0003 })];
    expect(aggregateVenueBars([a, b])).toEqual([
      buildBar({ ts: T0 + FIVE_MIN, openInterestUsd: 4000, volume: 4, fundingRate: (0.0001 * 1000 + 0.0003 * 3000) / 4000 }),
    ]);
  });

  it('when a venue has no volume or funding, then volume is left out and funding weighs only venues that have it', () => {
    const a = [buildBar({ volume: undefined })];
    const b = [buildBar({ fundingRate: undefined, openInterestUsd: 500 })];
    const [bar] = aggregateVenueBars([a, b]);
    expect(bar?.volume).toBeUndefined();
    expect(bar?.fundingRate).toBeCloseTo(0.0001, 12);
    expect(bar?.openInterestUsd).toBe(1500);
  });
});

describe('recordBars: realized liquidations', () => {
  it('when the source delivers realized liquidations, then they are written beside the bars, tagged with their venue, and a replay of the recording serves them', async () => {
    const from = join(dir, 'from');
    const to = join(dir, 'to');
    await mkdir(from);
    await writeFile(join(from, 'BTCUSDT.csv'), formatBarsCsv([buildBar({ ts: T0 }), buildBar({ ts: T0 + FIVE_MIN })]));
    await writeFile(join(from, 'BTCUSDT.liquidations.csv'), `ts,side,price,usd\n${T0 + 60_000},long,99.2,1500\n${T0 + FIVE_MIN + 1},short,100.9,700\n`);
    const clock = () => T0 + 2 * FIVE_MIN;
    const source = await ReplayMarketSource.create({ dir: from, symbols: ['BTCUSDT'], clock });
    const done = await recordBars(source, { symbols: ['BTCUSDT'], venues: ['replay'], outDir: to, noBook: true });
    expect(done[0]).toMatchObject({ liquidationsFile: join(to, 'BTCUSDT.liquidations.csv'), liquidations: 2 });
    const written = parseLiquidationsCsv(await readFile(join(to, 'BTCUSDT.liquidations.csv'), 'utf8'));
    expect(written).toEqual([
      { ts: T0 + 60_000, side: 'long', price: 99.2, usd: 1500, venue: 'replay' },
      { ts: T0 + FIVE_MIN + 1, side: 'short', price: 100.9, usd: 700, venue: 'replay' },
    ]);
    const replayed = await ReplayMarketSource.create({ dir: to, symbols: ['BTCUSDT'], clock });
    expect(await replayed.fetchLiquidations('BTCUSDT', 'replay', undefined)).toEqual(written);
  });

  it('when the source delivers no realized liquidations, then no liquidations file is written', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv([buildBar({ ts: T0 }), buildBar({ ts: T0 + FIVE_MIN })]));
    const source = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => T0 + 2 * FIVE_MIN });
    const out = join(dir, 'out');
    const done = await recordBars(source, { symbols: ['BTCUSDT'], venues: ['replay'], outDir: out, noBook: true });
    expect(done[0]?.liquidationsFile).toBeUndefined();
    await expect(readFile(join(out, 'BTCUSDT.liquidations.csv'))).rejects.toThrow(/ENOENT/);
  });
});
