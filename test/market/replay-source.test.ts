import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bar } from '../../src/domain/market-data.js';
import { formatBarsCsv } from '../../src/market/bars-csv.js';
import { createMarketSource, type MarketSourceConfig } from '../../src/market/index.js';
import { UnknownSymbolError } from '../../src/market/market-source.js';
import { ReplayMarketSource } from '../../src/market/replay-source.js';

const THIRTY_MIN = 1_800_000;
const RECORDED_START = Date.UTC(2025, 4, 21, 10, 0);
// Startup clock: mid-bar, so the shift must align to the bar grid.
const NOW = Date.UTC(2026, 0, 7, 12, 10, 17);

function buildBars(n: number, overrides: Partial<Bar> = {}): Bar[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: RECORDED_START + i * THIRTY_MIN,
    open: 100 + i,
    high: 102 + i,
    low: 99 + i,
    close: 101 + i,
    volume: 5,
    openInterestUsd: 1e9 + i,
    fundingRate: 0.0001,
    ...overrides,
  }));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'replay-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function buildConfig(overrides: Partial<MarketSourceConfig> = {}): MarketSourceConfig {
  return {
    source: 'replay',
    symbols: ['BTCUSDT'],
    venues: ['binanceusdm'],
    replayDir: dir,
    barTimeframe: '30m',
    simBarIntervalMs: 3000,
    simSeed: 1,
    ...overrides,
  };
}

const deps = { clock: () => NOW, logger: pino({ level: 'silent' }) };

describe('replay source', () => {
  it('when a bars file is replayed, then it is shifted so the newest bar closes at the startup bar boundary', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(4)));
    const source = await createMarketSource(buildConfig(), deps);
    const bars = await source.fetchBars('BTCUSDT', 'replay', undefined);
    const boundary = Math.floor(NOW / THIRTY_MIN) * THIRTY_MIN;
    expect(bars.map((b) => b.ts)).toEqual([3, 2, 1, 0].map((k) => boundary - (k + 1) * THIRTY_MIN));
    expect(bars.map((b) => b.close)).toEqual([101, 102, 103, 104]);
    expect(source.name).toBe('replay');
    expect(source.venues('BTCUSDT')).toEqual(['replay']);
    await source.close();
  });

  it('when polled with the last bar seen, then only later bars come back', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(4)));
    const source = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => NOW });
    const all = await source.fetchBars('BTCUSDT', 'replay', undefined);
    expect(await source.fetchBars('BTCUSDT', 'replay', all[1]?.ts)).toEqual(all.slice(2));
    expect(await source.fetchBars('BTCUSDT', 'replay', all.at(-1)?.ts)).toEqual([]);
  });

  it('when there is no book snapshot, then the tick is the last close and funding with a null book and no trading rules (spec null)', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(3, { fundingRate: 0.0002 })));
    const source = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => NOW });
    expect(await source.fetchTick('BTCUSDT', 'replay')).toEqual({ markPrice: 103, fundingRate: 0.0002, orderBook: null, ts: NOW, spec: null });
  });

  it('when a book snapshot exists, then the tick carries it sorted best first', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(3)));
    await writeFile(join(dir, 'BTCUSDT.book.csv'), 'side,price,size\nbid,102.5,1\nask,103.5,2\nbid,102.9,3\nask,103.1,4\n');
    const source = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => NOW });
    const tick = await source.fetchTick('BTCUSDT', 'replay');
    expect(tick.orderBook).toEqual({
      ts: NOW,
      bids: [
        { price: 102.9, size: 3 },
        { price: 102.5, size: 1 },
      ],
      asks: [
        { price: 103.1, size: 4 },
        { price: 103.5, size: 2 },
      ],
    });
  });

  it('when a configured symbol has no file, then that symbol is unknown and the others replay', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(2)));
    const source = await createMarketSource(buildConfig({ symbols: ['BTCUSDT', 'ETHUSDT'] }), deps);
    await expect(source.fetchBars('ETHUSDT', 'replay', undefined)).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(source.fetchTick('ETHUSDT', 'replay')).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(source.venues('ETHUSDT')).toEqual([]);
    expect(await source.fetchBars('BTCUSDT', 'replay', undefined)).toHaveLength(2);
  });

  it('when a bars file is malformed, then creation fails naming the file and line', async () => {
    const text = formatBarsCsv(buildBars(3)).replace(/\n([^\n]*)\n$/, '\n$1,\n1,2\n');
    await writeFile(join(dir, 'BTCUSDT.csv'), text);
    await expect(createMarketSource(buildConfig(), deps)).rejects.toThrow(`${join(dir, 'BTCUSDT.csv')}:5:`);
  });

  it('when a book snapshot is malformed, then creation fails naming the file and line', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(2)));
    await writeFile(join(dir, 'BTCUSDT.book.csv'), 'bid,100,1\nmid,101,1\n');
    await expect(createMarketSource(buildConfig(), deps)).rejects.toThrow(`${join(dir, 'BTCUSDT.book.csv')}:2:`);
  });

  it('when a liquidations file lies beside the bars, then its events come back shifted like the bars, oldest first, and only after the last one seen', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(4)));
    const inLastBar = RECORDED_START + 3 * THIRTY_MIN + 60_000;
    await writeFile(
      join(dir, 'BTCUSDT.liquidations.csv'),
      `ts,side,price,usd,venue\n${inLastBar},short,104.5,25000,binanceusdm\n${new Date(RECORDED_START + 90_000).toISOString()},long,99.5,12000.5,\n`,
    );
    const source = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => NOW });
    const bars = await source.fetchBars('BTCUSDT', 'replay', undefined);
    const shift = bars[0]!.ts - RECORDED_START;
    const events = await source.fetchLiquidations('BTCUSDT', 'replay', undefined);
    expect(events).toEqual([
      { ts: RECORDED_START + 90_000 + shift, side: 'long', price: 99.5, usd: 12000.5 },
      { ts: inLastBar + shift, side: 'short', price: 104.5, usd: 25000, venue: 'binanceusdm' },
    ]);
    expect(await source.fetchLiquidations('BTCUSDT', 'replay', events[0]!.ts)).toEqual([events[1]]);
  });

  it('when a liquidations event lies past the clock after the shift, then it comes out once the clock reaches it', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(2)));
    const afterLastClose = RECORDED_START + 2 * THIRTY_MIN + 20 * 60_000;
    await writeFile(join(dir, 'BTCUSDT.liquidations.csv'), `ts,side,price,usd\n${afterLastClose},long,100,5000\n`);
    let now = NOW;
    const source = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock: () => now });
    expect(await source.fetchLiquidations('BTCUSDT', 'replay', undefined)).toEqual([]);
    now += THIRTY_MIN;
    expect(await source.fetchLiquidations('BTCUSDT', 'replay', undefined)).toHaveLength(1);
  });

  it('when a liquidations file gives an order side instead of the position side, then creation fails naming the file and line', async () => {
    await writeFile(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars(2)));
    await writeFile(join(dir, 'BTCUSDT.liquidations.csv'), `ts,side,price,usd\n${RECORDED_START},long,100,5\n${RECORDED_START},SELL,100,5\n`);
    await expect(createMarketSource(buildConfig(), deps)).rejects.toThrow(`${join(dir, 'BTCUSDT.liquidations.csv')}:3: side must be the liquidated position's side`);
  });

  it('when the replay directory is not configured, then creation fails with a clear message', async () => {
    await expect(createMarketSource(buildConfig({ replayDir: undefined }), deps)).rejects.toThrow(/REPLAY_DIR/);
  });
});

describe('createMarketSource', () => {
  it('when the sim is configured, then it serves the configured symbols and venues', async () => {
    const source = await createMarketSource(buildConfig({ source: 'sim', venues: ['bybit', 'okx'] }), deps);
    expect(source.name).toBe('sim');
    expect(source.venues('BTCUSDT')).toEqual(['bybit', 'okx']);
    expect((await source.fetchBars('BTCUSDT', 'okx', undefined)).length).toBeGreaterThan(1000);
    await source.close();
  });
});
