/**
 * The latency audit durability adds: the real server (a child process, STORE=redis, sim
 * market) against a private redis-server, under an open-loop load at a fixed rate
 * (requests are sent on a schedule, not when the previous one returns, and latency counts
 * from the scheduled instant, so a stall is not hidden). Prints p50/p99/max and statuses.
 *
 *   npx tsx scripts/bench-audit-latency.ts --fsync always --rate 200 --seconds 15
 *   npx tsx scripts/bench-audit-latency.ts --fsync always --durability replica
 *   npx tsx scripts/bench-audit-latency.ts --server /tmp/base/src/server.ts   # another build, e.g. before durability
 *   npx tsx scripts/bench-audit-latency.ts --outage   # Redis killed before the measurement: records go to the journal
 *   npx tsx scripts/bench-audit-latency.ts --reduce-only --durability replica   # every check also reserves exposure
 *
 * Requires `redis-server` on PATH. Nothing is left behind (temp dirs removed, children killed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { INITIALISED_FIELD } from '../src/stores/trading-state-store.redis.js';
import { freePort } from '../test/helpers/redis-server.js';

const { values: args } = parseArgs({
  options: {
    fsync: { type: 'string', default: 'always' },
    durability: { type: 'string', default: 'primary' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    server: { type: 'string', default: 'src/server.ts' },
    /** Kill Redis once the gate is up: every record is fsynced to the local journal (AUDIT_JOURNAL_DIR) instead. */
    outage: { type: 'boolean', default: false },
    /**
     * Send reduce-only orders: they pass the heatmap rules (the simulator's opening orders
     * are mostly rejected by them before exposure is asked), so every check also reserves.
     */
    'reduce-only': { type: 'boolean', default: false },
  },
});

const KEY = 'bench-audit-latency-key-0001';

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

async function redisServer(fsync: string, replicaOf?: number): Promise<number> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-redis-'));
  dirs.push(dir);
  const extra = replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : [];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--dir', dir, ...extra],
    { stdio: 'ignore' },
  );
  children.push(child);
  const c = new Redis(port, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => {});
  await until(async () => {
    if (c.status !== 'ready') await c.connect();
    return (await c.ping()) === 'PONG';
  }, 10_000, `redis on ${port}`);
  c.disconnect();
  return port;
}

function journalDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lg-bench-journal-'));
  dirs.push(dir);
  return dir;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);
  const primary = await redisServer(args.fsync);
  const primaryChild = children[children.length - 1];
  if (args.durability === 'replica') await redisServer(args.fsync, primary);
  const prefix = 'bench:';
  const r = new Redis(primary);
  await r.hset(`${prefix}trading-state`, INITIALISED_FIELD, JSON.stringify({ by: 'bench', at: new Date().toISOString() }));
  r.disconnect();

  const port = await freePort();
  const gate = spawn(process.execPath, ['--import', 'tsx', args.server], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      STORE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${primary}`,
      REDIS_KEY_PREFIX: prefix,
      MARKET_SOURCE: 'sim',
      DEMO_ENGINE: 'off',
      API_KEYS: `bench=${KEY}:pretrade`,
      AUDIT_DURABILITY: args.durability,
      ...(args.outage ? { AUDIT_JOURNAL_DIR: journalDir() } : {}),
    },
    stdio: 'ignore',
  });
  children.push(gate);
  const base = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${base}/health/live`)).ok, 30_000, 'the gate');
  const body = JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', quantity: 0.01, orderType: 'market', ...(args['reduce-only'] ? { reduceOnly: true } : {}) });
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  if (args.outage) {
    primaryChild?.kill('SIGKILL');
    // One decision after the kill waits for the commit timeout and switches the gate to its journal.
    await fetch(`${base}/pretrade-check`, { method: 'POST', headers, body }).then((res) => res.arrayBuffer());
    const journaling = async () =>
      ((await (await fetch(`${base}/health/status`)).json()) as { checks: { name: string; ok: boolean }[] }).checks.some((c) => c.name === 'audit-journal' && !c.ok);
    await until(journaling, 30_000, 'the gate to journal');
  }

  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  const intervalMs = 1_000 / rate;
  const warm = Number(args.warmup) * 1_000;
  const t0 = performance.now();
  const total = Math.floor(((warm + seconds * 1_000) / 1_000) * rate);
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((res) => setTimeout(res, wait));
    const measured = i * intervalMs >= warm;
    inflight.push(
      fetch(`${base}/pretrade-check`, { method: 'POST', headers, body })
        .then(async (res) => {
          await res.arrayBuffer();
          if (!measured) return;
          latencies.push(performance.now() - due);
          statuses.set(String(res.status), (statuses.get(String(res.status)) ?? 0) + 1);
        })
        .catch(() => {
          if (measured) statuses.set('error', (statuses.get('error') ?? 0) + 1);
        }),
    );
  }
  await Promise.all(inflight);
  latencies.sort((a, b) => a - b);
  const fmt = (x: number) => x.toFixed(2);
  console.log(
    JSON.stringify({
      server: args.server,
      appendfsync: args.fsync,
      durability: args.durability,
      outage: args.outage,
      reduceOnly: args['reduce-only'],
      rate,
      seconds,
      requests: latencies.length,
      statuses: Object.fromEntries(statuses),
      p50ms: fmt(percentile(latencies, 50)),
      p99ms: fmt(percentile(latencies, 99)),
      maxms: fmt(latencies[latencies.length - 1] ?? Number.NaN),
    }),
  );
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children.reverse()) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
