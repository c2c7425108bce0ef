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

  it('when Binance is recorded, then its taker flow and long/short ratio are in the file and replay serves them as the source gave them', async () => {
    const { source } = await buildTwoVenueSource();
    try {
      const fetched = await source.fetchBars('BTCUSDT', 'binanceusdm', T0 - FIVE_MIN);
      expect(fetched[0]).toMatchObject({ takerBuyVolume: 70.1, longShortRatio: 1.81 });
      await recordBars(source, { symbols: ['BTCUSDT'], venues: ['binanceusdm'], outDir: dir, sinceMs: T0 - FIVE_MIN, noBook: true });
      const text = await readFile(join(dir, 'BTCUSDT.csv'), 'utf8');
      expect(text.split('\n')[0]).toContain('taker_buy_volume,taker_sell_volume,long_short_ratio');
      const replay = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => NOW });
      const replayed = await replay.fetchBars('BTCUSDT', 'replay', undefined);
      // Replay shifts time; everything else is the bar the venue gave.
      const shift = (replayed[0]?.ts ?? 0) - (fetched[0]?.ts ?? 0);
      expect(replayed).toEqual(fetched.map((b) => ({ ...b, ts: b.ts + shift })));
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

  it('when venues publish taker flow and long/short ratios, then flow is summed (only when every venue has it) and the ratio weighted by open interest', () => {
    const a = [buildBar({ takerBuyVolume: 1.5, takerSellVolume: 0.5, longShortRatio: 2 })];
    const b = [buildBar({ openInterestUsd: 3000, takerBuyVolume: 1, takerSellVolume: 1, longShortRatio: 1 })];
    expect(aggregateVenueBars([a, b])[0]).toMatchObject({ takerBuyVolume: 2.5, takerSellVolume: 1.5, longShortRatio: (2 * 1000 + 1 * 3000) / 4000 });
    const [partial] = aggregateVenueBars([a, [buildBar({ openInterestUsd: 3000 })]]);
    expect(partial?.takerBuyVolume).toBeUndefined();
    expect(partial?.longShortRatio).toBe(2);
  });

  it('when the recorder writes bars with taker flow and long/short ratio, then reading the file back gives identical bars; a file without the columns still reads', () => {
    const bars = aggregateVenueBars([
      [
        buildBar({ takerBuyVolume: 1.234567, takerSellVolume: 0.765433, longShortRatio: 1.7345 }),
        buildBar({ ts: T0 + FIVE_MIN, takerBuyVolume: 0.1, takerSellVolume: 0.2, longShortRatio: 0.61 }),
      ],
    ]);
    expect(bars[0]).toHaveProperty('takerBuyVolume', 1.234567);
    expect(parseBarsCsv(formatBarsCsv(bars), 'BTCUSDT.csv')).toEqual(bars);
    const old = 'timestamp,open,high,low,close,volume,open_interest_usd,funding_rate,liq_long_usd,liq_short_usd\n' + `${T0},100,101,99,100.5,2,1000,0.0001,,\n`;
    expect(parseBarsCsv(old, 'old.csv')).toEqual([buildBar()]);
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
