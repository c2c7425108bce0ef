import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

interface HeatmapBody {
  source: string;
  version: number;
  ageMs: number;
  clusters: { side: 'long' | 'short'; peakPrice: number; notionalUsd: number }[];
}

/** A port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The quickstart as a user runs it: the real server entry with no configuration
 * (only PORT/HOST so tests can run side by side), the demo key it prints, and SIGTERM.
 */
describe('demo quickstart (the server process with embedded defaults)', () => {
  let child: ChildProcess;
  let out = '';
  let exit: Promise<number | null>;
  let base = '';
  let key = '';
  let metricsPort = 0;

  beforeAll(async () => {
    metricsPort = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        SIM_BAR_INTERVAL_MS: '500',
        POLL_INTERVAL_MS: '500',
        METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    [base, key] = await until(
      async () => {
        const addr = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
        const k = /LIQ_GATE_KEY=(\S+)/.exec(out)?.[1];
        return addr && k ? ([addr, k] as const) : undefined;
      },
      20_000,
      'the server to listen and print its demo key',
    ).then((v) => [...v]);
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const getHeatmap = async (): Promise<HeatmapBody | undefined> => {
    const res = await fetch(`${base}/heatmap/BTCUSDT`, { headers: { authorization: `Bearer ${key}` } });
    return res.ok ? ((await res.json()) as HeatmapBody) : undefined;
  };

  it('when started with no configuration, then it becomes ready with fresh simulator heatmaps that have clusters on both sides and change over time', async () => {
    await until(async () => ((await fetch(`${base}/health/ready`)).status === 200 ? true : undefined), 30_000, 'readiness');
    // Ready means "can answer" (not "has maps"): the first maps may come from a few bars only.
    const first = await until(
      async () => {
        const h = await getHeatmap();
        const sides = h?.clusters.map((c) => c.side) ?? [];
        return sides.includes('long') && sides.includes('short') ? h : undefined;
      },
      20_000,
      'a heatmap with clusters on both sides',
    );
    expect(first.source).toBe('sim');
    expect(first.ageMs).toBeLessThan(60_000);
    const later = await until(
      async () => {
        const h = await getHeatmap();
        return h && h.version > first.version ? h : undefined;
      },
      15_000,
      'a newer heatmap version',
    );
    expect(JSON.stringify(later.clusters)).not.toBe(JSON.stringify(first.clusters));
  });

  it('when METRICS_PORT is set, then /metrics answers there without a key, while the main port still asks for one', async () => {
    const text = await until(async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return res.ok ? res.text() : undefined;
    }, 10_000, 'the metrics listener');
    expect(text).toContain('liqgate_decisions_total');
    expect(text).toMatch(/liqgate_heatmap_age_seconds\{[^}]*symbol="BTCUSDT"/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/heatmap/BTCUSDT`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
  });

  it('when it receives SIGTERM, then it shuts down cleanly and exits 0', async () => {
    child.kill('SIGTERM');
    const code = await Promise.race([exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    expect(code).toBe(0);
    expect(out).toContain('shutdown complete');
    // The key is printed once for the user, outside the logs; no log line carries it.
    const logLines = out.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    for (const l of logLines) expect(l).not.toContain(key);
  });
});
