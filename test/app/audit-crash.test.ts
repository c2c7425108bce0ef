import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { bearer, initialiseTradingState, TEST_API_KEYS, TEST_KEYS } from '../helpers/app.js';
import { startServerProcess, stopProcess, type ServerProcess } from '../helpers/process.js';
import { startPrivateRedis, waitUntil } from '../helpers/redis-server.js';

/**
 * Nothing answered is lost: the real server in a child process is killed with SIGKILL
 * under load (with Redis up, and during a Redis outage), then restarted (or another
 * replica takes over its journal); every decision answered with 200 before the kill must
 * be found in Redis afterwards, each once.
 */
const PREFIX = 'lg-crash:';

type Gate = ServerProcess;

const startGate = (redisUrl: string, journalDir: string, instanceId: string, extra: Record<string, string> = {}): Promise<Gate> =>
  startServerProcess(
    {
      NODE_ENV: 'test',
      STORE: 'redis',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: PREFIX,
      API_KEYS: TEST_API_KEYS,
      MARKET_SOURCE: 'sim',
      DEMO_ENGINE: 'off',
      INSTANCE_ID: instanceId,
      AUDIT_JOURNAL_DIR: journalDir,
      AUDIT_COMMIT_TIMEOUT_MS: '200',
      LOG_LEVEL: 'info',
      ...extra,
    },
    { name: `gate ${instanceId}` },
  );

const kill9 = (g: Gate): Promise<void> => stopProcess(g.child, 'SIGKILL');
const stopGate = (g: Gate): Promise<void> => stopProcess(g.child, 'SIGTERM');

/** Closed-loop load from `workers` clients; collects the decision ids answered with 200. */
function load(base: string, workers = 12) {
  const answered: string[] = [];
  const statuses = new Map<number | string, number>();
  let running = true;
  const one = async () => {
    while (running) {
      try {
        const res = await fetch(`${base}/pretrade-check`, {
          method: 'POST',
          headers: { ...bearer(TEST_KEYS.pretrade), 'content-type': 'application/json' },
          body: JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', quantity: 0.01, orderType: 'market' }),
        });
        const body = (await res.json()) as { decisionId?: string };
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200 && body.decisionId) answered.push(body.decisionId);
      } catch {
        statuses.set('no answer', (statuses.get('no answer') ?? 0) + 1);
        if (!running) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, one));
  return {
    answered,
    statuses,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** The answered ids Redis does not hold (lookup key), and the stream's duplicates. */
async function missingAndDuplicates(redis: Redis, ids: string[]): Promise<{ missing: string[]; duplicates: number }> {
  const keys = redisKeys(PREFIX);
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const found = await redis.mget(...chunk.map((id) => keys.decision(id)));
    found.forEach((v, j) => {
      if (v === null) missing.push(chunk[j] as string);
    });
  }
  const entries = await redis.xrange(keys.auditStream(), '-', '+');
  const inStream = entries.map(([, f]) => f[f.indexOf('decisionId') + 1]);
  return { missing, duplicates: inStream.length - new Set(inStream).size };
}

const waitForAnswers = (l: { answered: string[] }, n: number, what: string) =>
  waitUntil(async () => l.answered.length >= n, 30_000, what);

describe('audit records survive SIGKILL of the service', { timeout: 90_000 }, () => {
  let aofDir: string;
  let journalDir: string;
  let redisServer: Awaited<ReturnType<typeof startPrivateRedis>>;
  let redis: Redis;
  const gates: Gate[] = [];

  beforeAll(async () => {
    aofDir = mkdtempSync(join(tmpdir(), 'lg-crash-aof-'));
    redisServer = await startPrivateRedis({ aofDir });
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    redis.on('error', () => {});
    await initialiseTradingState(redis, PREFIX);
  });
  afterAll(async () => {
    for (const g of gates) await kill9(g);
    redis.disconnect();
    await redisServer.stop();
    rmSync(aofDir, { recursive: true, force: true });
  });

  it('when the service is SIGKILLed under load, then every decision answered before is in Redis after the restart, once', async () => {
    journalDir = mkdtempSync(join(tmpdir(), 'lg-crash-journal-'));
    try {
      const gate = await startGate(redisServer.url, journalDir, 'gate-1');
      gates.push(gate);
      const l = load(gate.base);
      await waitForAnswers(l, 300, '300 answers');
      await kill9(gate);
      await l.stop();
      expect(l.answered.length).toBeGreaterThanOrEqual(300);

      const again = await startGate(redisServer.url, journalDir, 'gate-1');
      gates.push(again);
      const { missing, duplicates } = await missingAndDuplicates(redis, l.answered);
      expect(missing).toEqual([]);
      expect(duplicates).toBe(0);
      await stopGate(again);
    } finally {
      rmSync(journalDir, { recursive: true, force: true });
    }
  });

  it('when the service is SIGKILLed during a Redis outage, then the journal is replayed at its restart and nothing answered is missing, once each', async () => {
    journalDir = mkdtempSync(join(tmpdir(), 'lg-crash-journal-'));
    try {
      const gate = await startGate(redisServer.url, journalDir, 'gate-2');
      gates.push(gate);
      const l = load(gate.base);
      await waitForAnswers(l, 100, '100 answers before the outage');
      await redisServer.stop(); // SIGKILL of Redis: what it acknowledged is in its AOF (appendfsync always)
      const beforeOutage = l.answered.length;
      await waitForAnswers(l, beforeOutage + 200, '200 answers during the outage');
      await kill9(gate);
      await l.stop();
      expect(readdirSync(journalDir).some((n) => n.startsWith('gate-2.') && n.endsWith('.jsonl'))).toBe(true);

      await redisServer.start();
      const again = await startGate(redisServer.url, journalDir, 'gate-2');
      gates.push(again);
      await waitUntil(async () => (await missingAndDuplicates(redis, l.answered)).missing.length === 0, 20_000, 'the journal replay').catch(() => {});
      const { missing, duplicates } = await missingAndDuplicates(redis, l.answered);
      expect(missing).toEqual([]);
      expect(duplicates).toBe(0);
      await stopGate(again);
    } finally {
      rmSync(journalDir, { recursive: true, force: true });
    }
  });

  it('when the service is SIGKILLed during a Redis outage after answering fills, then its restart replays them and each counts once in the position', async () => {
    journalDir = mkdtempSync(join(tmpdir(), 'lg-crash-journal-'));
    const keys = redisKeys(PREFIX);
    const account = 'pretrader'; // the key's own account (TEST_API_KEYS has no account lists)
    const executedAt = new Date(Date.now() - 1_000).toISOString();
    const post = (base: string, fillId: string) =>
      fetch(`${base}/fills`, {
        method: 'POST',
        headers: { ...bearer(TEST_KEYS.pretrade), 'content-type': 'application/json' },
        body: JSON.stringify({ fillId, symbol: 'ETHUSDT', side: 'buy', quantity: 0.5, price: 4_000, executedAt }),
      });
    const quantity = async () => {
      const s = await redis.hget(keys.exposureState(account), 's').catch(() => null);
      return s === null ? null : ((JSON.parse(s) as { positions: Record<string, { quantity: number }> }).positions.ETHUSDT?.quantity ?? 0);
    };
    try {
      const gate = await startGate(redisServer.url, journalDir, 'gate-fills');
      gates.push(gate);
      await redisServer.stop();
      const flags: string[][] = [];
      for (let i = 0; i < 20; i++) {
        const res = await post(gate.base, `crash-fill-${i}`);
        expect(res.status).toBe(202);
        flags.push(((await res.json()) as { flags: string[] }).flags);
        if (i % 5 === 0) expect((await post(gate.base, `crash-fill-${i}`)).status).toBe(202); // a resend
      }
      expect(flags.every((f) => f.includes('JOURNALED'))).toBe(true);
      await kill9(gate);

      await redisServer.start();
      const again = await startGate(redisServer.url, journalDir, 'gate-fills');
      gates.push(again);
      await waitUntil(async () => (await quantity()) === 10, 20_000, 'the exposure journal replayed').catch(() => {});
      expect(await quantity()).toBe(10); // 20 fills of 0.5, resends counted once
      expect(await redis.hlen(keys.exposureFills(account))).toBe(20);
      // The replayed file is removed just after its fills are applied.
      const journalFiles = () => readdirSync(join(journalDir, 'exposure')).filter((n) => n.endsWith('.jsonl'));
      await waitUntil(async () => journalFiles().length === 0, 10_000, 'the replayed journal file removed').catch(() => {});
      expect(journalFiles()).toEqual([]);
      await stopGate(again);
    } finally {
      rmSync(journalDir, { recursive: true, force: true });
    }
  });

  it('when a replica dies during a Redis outage and does not come back, then another replica replays its journal', async () => {
    journalDir = mkdtempSync(join(tmpdir(), 'lg-crash-journal-'));
    try {
      const env = { AUDIT_JOURNAL_ORPHAN_MS: '1000' };
      const gate = await startGate(redisServer.url, journalDir, 'gate-3a', env);
      gates.push(gate);
      await redisServer.stop();
      const l = load(gate.base);
      await waitForAnswers(l, 100, '100 answers during the outage');
      await kill9(gate);
      await l.stop();

      await redisServer.start();
      const other = await startGate(redisServer.url, journalDir, 'gate-3b', env);
      gates.push(other);
      await waitUntil(async () => (await missingAndDuplicates(redis, l.answered)).missing.length === 0, 20_000, 'the takeover replay').catch(() => {});
      const { missing, duplicates } = await missingAndDuplicates(redis, l.answered);
      expect(missing).toEqual([]);
      expect(duplicates).toBe(0);
      expect(readdirSync(journalDir).filter((n) => n.startsWith('gate-3a.') && n.endsWith('.jsonl'))).toEqual([]);
      await stopGate(other);
    } finally {
      rmSync(journalDir, { recursive: true, force: true });
    }
  });
});
