import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bar } from '../../src/domain/market-data.js';
import { formatBarsCsv } from '../../src/market/bars-csv.js';
import { bearer, TEST_API_KEYS, TEST_KEYS } from '../helpers/app.js';
import { freePort, waitUntil } from '../helpers/redis-server.js';

// The real server process replaying one recording twice, with and without its realized
// liquidations file: the map lists the events and lost notional where they happened.

const root = new URL('../../', import.meta.url).pathname;
const FIVE_MIN = 300_000;
const START = Date.UTC(2025, 4, 1);
const N = 600;

/** 600 five-minute bars swinging ±2% around 100,000 with open interest building. */
function buildBars(): Bar[] {
  return Array.from({ length: N }, (_, i) => {
    const close = 100_000 * (1 + 0.02 * Math.sin(i / 40));
    const open = 100_000 * (1 + 0.02 * Math.sin((i - 1) / 40));
    return { ts: START + i * FIVE_MIN, open, high: Math.max(open, close) * 1.001, low: Math.min(open, close) * 0.999, close, volume: 50, openInterestUsd: 1e9 * (1 + i / 600), fundingRate: 0.0001 };
  });
}

interface Ladder {
  markPrice: number;
  ladder: { price: number; longUsd: number; shortUsd: number }[];
  recentLiquidations: { at: string; side: string; price: number; usd: number; venue: string | null }[];
}

interface Service {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(dir: string): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      STORE: 'memory',
      MARKET_SOURCE: 'replay',
      REPLAY_DIR: dir,
      SYMBOLS: 'BTCUSDT',
      API_KEYS: TEST_API_KEYS,
      POLL_INTERVAL_MS: '500',
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
      return fetch(`${base}/health/ready`).then((r) => r.status === 200).catch(() => false);
    },
    60_000,
    'the replaying server to be ready',
  );
  return {
    base,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const heatmap = async (s: Service): Promise<Ladder> => (await fetch(`${s.base}/heatmap/BTCUSDT`, { headers: bearer(TEST_KEYS.read) })).json() as Promise<Ladder>;
const sideNear = (h: Ladder, side: 'long' | 'short', price: number) =>
  h.ladder.filter((b) => Math.abs(b.price - price) <= price * 0.01).reduce((s, b) => s + (side === 'long' ? b.longUsd : b.shortUsd), 0);

describe('replay with a realized liquidations file, end to end', { timeout: 180_000 }, () => {
  const dirs: string[] = [];
  const running: Service[] = [];
  let withFile: Ladder;
  let without: Ladder;
  const last = buildBars()[N - 1]!;
  // Inside the newest bar: a long flushed 2% below its close, a short squeezed 2% above.
  const longAt = Math.round(last.close * 0.98);
  const shortAt = Math.round(last.close * 1.02);

  beforeAll(async () => {
    const make = (liquidations: string | null) => {
      const dir = mkdtempSync(join(tmpdir(), 'replay-liq-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'BTCUSDT.csv'), formatBarsCsv(buildBars()));
      if (liquidations) writeFileSync(join(dir, 'BTCUSDT.liquidations.csv'), liquidations);
      return dir;
    };
    const csv = [
      'ts,side,price,usd,venue',
      `${new Date(last.ts + 60_000).toISOString()},long,${longAt},3000000,binanceusdm`,
      `${last.ts + 120_000},short,${shortAt},2000000,bybit`,
    ].join('\n');
    const [a, b] = await Promise.all([startServer(make(csv)), startServer(make(null))]);
    running.push(a, b);
    [withFile, without] = await Promise.all([heatmap(a), heatmap(b)]);
  });
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('when the recording has a liquidations file, then GET /heatmap lists its events newest first, shifted with the bars', () => {
    expect(without.recentLiquidations).toEqual([]);
    expect(withFile.recentLiquidations.map((e) => [e.side, e.price, e.usd, e.venue])).toEqual([
      ['short', shortAt, 2_000_000, 'bybit'],
      ['long', longAt, 3_000_000, 'binanceusdm'],
    ]);
    const [short, long] = withFile.recentLiquidations;
    expect(Date.parse(short!.at) - Date.parse(long!.at)).toBe(60_000);
  });

  it('when the events are applied, then the ladder lost that side\'s notional near their prices and nothing elsewhere', () => {
    expect(withFile.markPrice).toBe(without.markPrice);
    const lostLong = sideNear(without, 'long', longAt) - sideNear(withFile, 'long', longAt);
    const lostShort = sideNear(without, 'short', shortAt) - sideNear(withFile, 'short', shortAt);
    expect(sideNear(without, 'long', longAt)).toBeGreaterThan(3_000_000);
    expect(lostLong).toBeGreaterThan(0.5 * 3_000_000);
    expect(lostLong).toBeLessThanOrEqual(3_000_000 * 1.000001);
    expect(lostShort).toBeGreaterThan(0.5 * 2_000_000);
    expect(lostShort).toBeLessThanOrEqual(2_000_000 * 1.000001);
    // Far from both events the two maps agree.
    const far = withFile.ladder.filter((b) => Math.abs(b.price - longAt) > longAt * 0.02 && Math.abs(b.price - shortAt) > shortAt * 0.02);
    const same = without.ladder.filter((b) => far.some((f) => f.price === b.price));
    expect(far.map((b) => Math.round(b.longUsd + b.shortUsd))).toEqual(same.map((b) => Math.round(b.longUsd + b.shortUsd)));
  });
});
