import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryAuditLog, type AuditLog } from '../../../src/stores/audit-log.js';
import { createRedisAuditLog } from '../../../src/stores/audit-log.redis.js';
import { createMemoryIdempotencyStore, type IdempotencyStore } from '../../../src/stores/idempotency-store.js';
import { createRedisIdempotencyStore } from '../../../src/stores/idempotency-store.redis.js';
import type { Stores } from '../../../src/stores/index.js';
import { redisKeys } from '../../../src/stores/redis-keys.js';
import { createMemoryTradingStateStore } from '../../../src/stores/trading-state-store.js';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { auditBacklog, statusChecks } from '../../helpers/observe.js';
import { reloadable } from '../../helpers/stores.js';
import { buildRequest, check, getTradingState, NOW, publishHeatmap, putTradingState } from './helpers.js';

/** An audit log whose next `failures` appends reject, then behave like `inner`. */
function flakyAuditLog(inner: AuditLog, failures: number) {
  const state = { failuresLeft: failures, attempts: 0 };
  const log: AuditLog = {
    append: async (batch) => {
      state.attempts += 1;
      if (state.failuresLeft > 0) {
        state.failuresLeft -= 1;
        throw new Error('connection refused (simulated)');
      }
      await inner.append(batch);
    },
    get: (id) => inner.get(id),
  };
  return Object.assign(state, { log });
}

/** The real app on the memory store, at NOW unless a clock is given, with some stores replaced; a calm fresh map for BTCUSDT. */
async function buildHarness(opts: { stores: Partial<Stores>; clock?: () => number; env?: Record<string, string> }): Promise<TestApp> {
  const clock = opts.clock ?? (() => NOW);
  const t = await buildTestApp({ clock, stores: opts.stores, ...(opts.env ? { env: opts.env } : {}) });
  await publishHeatmap(t, { asOf: clock() - 1_000 });
  return t;
}

let h: TestApp | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A fresh journal directory per test, removed after it. */
const journalDirs: string[] = [];
function journalDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lg-journal-'));
  journalDirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of journalDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An audit log whose appends never settle. */
const hungLog = (): AuditLog => ({ append: () => new Promise(() => {}), get: async () => null });

describe('audit group commit', () => {
  it('when the log fails and there is no journal, then the check gets 503 AUDIT_UNAVAILABLE and no decision; once the log works again, checks are answered and recorded', async () => {
    const inner = createMemoryAuditLog(1_000);
    const flaky = flakyAuditLog(inner, 1);
    h = await buildHarness({ stores: { auditLog: flaky.log } });

    const refused = await check(h.app, buildRequest());
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error).toBe('AUDIT_UNAVAILABLE');
    expect(refused.json()).not.toHaveProperty('decisionId');

    const answered = await check(h.app, buildRequest());
    expect(answered.statusCode).toBe(200);
    // Answered means recorded: the record is in the log when the reply arrives.
    expect(inner.entries().map((r) => r.decisionId)).toEqual([answered.json().decisionId]);
  });

  it('when an idempotent check got 503 because its record failed, then the retry replays the decision only once its record is durable', async () => {
    const inner = createMemoryAuditLog(1_000);
    const flaky = flakyAuditLog(inner, 1);
    h = await buildHarness({ stores: { auditLog: flaky.log } });
    const order = buildRequest({ clientOrderId: 'retry-after-503' });

    expect((await check(h.app, order)).statusCode).toBe(503);
    const retry = await check(h.app, order);
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect(inner.entries().map((r) => r.decisionId)).toEqual([retry.json().decisionId]);
    // A further replay finds the record there: still one.
    await check(h.app, order);
    expect(inner.entries()).toHaveLength(1);
  });

  it('when the log fails and a journal is configured, then checks are answered from the journal, readable by id, and replayed into the log once, in order, when it recovers', async () => {
    const inner = createMemoryAuditLog(1_000);
    const flaky = flakyAuditLog(inner, Number.POSITIVE_INFINITY);
    const dir = journalDir();
    h = await buildHarness({ env: { AUDIT_JOURNAL_DIR: dir, INSTANCE_ID: 'gate-a' }, stores: { auditLog: flaky.log } });

    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await check(h.app, buildRequest({ quantity: 0.1 + i / 100 }));
      expect(res.statusCode).toBe(200);
      ids.push(res.json().decisionId);
    }
    expect(inner.entries()).toHaveLength(0);
    expect(await statusChecks(h.app)).toContainEqual(expect.objectContaining({ name: 'audit-journal', ok: false }));
    const fromJournal = await h.app.inject({ method: 'GET', url: `/decisions/${ids[2]}`, headers: bearer(TEST_KEYS.read) });
    expect(fromJournal.statusCode).toBe(200);
    expect(fromJournal.json().decisionId).toBe(ids[2]);

    flaky.failuresLeft = 0;
    // The writer retries the replay with backoff (at most 5 s between attempts).
    await vi.waitFor(async () => expect(await statusChecks(h!.app)).toContainEqual({ name: 'audit-journal', ok: true }), { timeout: 15_000, interval: 50 });
    expect(inner.entries().map((r) => r.decisionId)).toEqual(ids);
    expect(readdirSync(dir).filter((n) => n.endsWith('.jsonl'))).toEqual([]);

    // Back on the log: the next record goes there directly, nothing is duplicated.
    const next = await check(h.app, buildRequest());
    expect(inner.entries().map((r) => r.decisionId)).toEqual([...ids, next.json().decisionId]);
  });

  it('when the backlog reaches its cap, then new checks get 503 AUDIT_BACKLOG and readiness fails', async () => {
    h = await buildHarness({
      env: { SHUTDOWN_TIMEOUT_MS: '100', AUDIT_BACKLOG_MAX: '2', AUDIT_COMMIT_TIMEOUT_MS: '30000' },
      stores: { auditLog: hungLog() },
    });
    // Two checks wait for their (hung) group commit; the third finds no room.
    void check(h.app, buildRequest());
    void check(h.app, buildRequest());
    await vi.waitFor(async () => expect(await auditBacklog(h!.app)).toBe(2), { timeout: 5_000, interval: 10 });
    const refused = await check(h.app, buildRequest());
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error).toBe('AUDIT_BACKLOG');
    expect(await statusChecks(h.app)).toContainEqual(expect.objectContaining({ name: 'audit', ok: false }));
  });

  it('when an append never returns and there is no journal, then the check is refused after the commit timeout and shutdown ends', async () => {
    h = await buildHarness({ env: { SHUTDOWN_TIMEOUT_MS: '100', AUDIT_COMMIT_TIMEOUT_MS: '50' }, stores: { auditLog: hungLog() } });
    const res = await check(h.app, buildRequest());
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('AUDIT_UNAVAILABLE');
  });

  it('when an append never returns and a journal is configured, then the check is answered from the journal after the commit timeout', async () => {
    const dir = journalDir();
    h = await buildHarness({ env: { AUDIT_COMMIT_TIMEOUT_MS: '50', AUDIT_JOURNAL_DIR: dir, INSTANCE_ID: 'gate-b' }, stores: { auditLog: hungLog() } });
    const res = await check(h.app, buildRequest());
    expect(res.statusCode).toBe(200);
    expect(readFileSync(join(dir, 'gate-b.current.jsonl'), 'utf8')).toContain(res.json().decisionId);
  });

  it('when a batch cannot be recorded, then the whole batch is a 503 with no decision in it', async () => {
    h = await buildHarness({ stores: { auditLog: flakyAuditLog(createMemoryAuditLog(10), Number.POSITIVE_INFINITY).log } });
    const res = await h.app.inject({
      method: 'POST',
      url: '/pretrade-check/batch',
      headers: bearer(TEST_KEYS.pretrade),
      payload: { orders: [buildRequest(), buildRequest({ side: 'sell' })] },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('AUDIT_UNAVAILABLE');
  });
});

/** A shared trading-state store that can be switched off; `store.reload()` makes the app reload from it now. */
function switchableStateStore() {
  const inner = createMemoryTradingStateStore();
  const sw = { up: true };
  const store = reloadable({
    shared: true,
    load: async () => {
      if (!sw.up) throw new Error('store down (simulated)');
      return inner.load();
    },
    set: async (s, e) => {
      if (!sw.up) throw new Error('store down (simulated)');
      return inner.set(s, e);
    },
    subscribe: (l) => inner.subscribe(l),
    acknowledge: async (r, v) => {
      if (!sw.up) throw new Error('store down (simulated)');
      return inner.acknowledge(r, v);
    },
    acknowledgements: async (ms) => {
      if (!sw.up) throw new Error('store down (simulated)');
      return inner.acknowledgements(ms);
    },
  });
  return Object.assign(sw, { store, inner });
}

describe('trading state when the store fails', () => {
  it('when a PUT cannot be stored, then 503 and the previous state still applies', async () => {
    const s = switchableStateStore();
    h = await buildHarness({ stores: { tradingState: s.store } });
    s.up = false;
    const res = await putTradingState(h.app, { state: 'HALTED', reason: 'x' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('STORE_UNAVAILABLE');
    expect((await getTradingState(h.app)).json().global.state).toBe('ACTIVE');
    expect((await check(h.app, buildRequest({ quantity: 0.1 }))).json().decision).toBe('APPROVE');
  });

  it('when the state cannot be read at start, then every order is rejected TRADING_HALTED, reduce-only included, until it is', async () => {
    const s = switchableStateStore();
    s.up = false;
    h = await buildHarness({ stores: { tradingState: s.store } });
    const risky = (await check(h.app, buildRequest({ quantity: 0.1 }))).json();
    expect(risky.decision).toBe('REJECT');
    expect(risky.reasons.map((r: { code: string }) => r.code)).toContain('TRADING_HALTED');
    expect((await check(h.app, buildRequest({ quantity: 0.1, reduceOnly: true }))).json().decision).toBe('REJECT');
    expect(await statusChecks(h.app)).toContainEqual(expect.objectContaining({ name: 'trading-state', ok: false }));

    s.up = true;
    await s.store.reload();
    expect((await check(h.app, buildRequest({ quantity: 0.1 }))).json().decision).toBe('APPROVE');
  });
});

describe('trading state when a replica is cut off from the store', () => {
  const halted = { state: 'HALTED' as const, reason: 'exchange incident', updatedBy: 'admin', updatedAt: new Date(NOW).toISOString() };

  it('when reads fail for longer than 3 refresh intervals, then every scope counts as HALTED and readiness fails until a read succeeds', async () => {
    const s = switchableStateStore();
    const clock = manualClock(NOW);
    const harness = await buildHarness({ clock, stores: { tradingState: s.store } });
    h = harness;
    const decide = async (overrides: Record<string, unknown> = {}) => {
      await publishHeatmap(harness, { asOf: clock() - 1_000 }); // keep the map fresh
      return (await check(harness.app, buildRequest({ quantity: 0.1, ...overrides }))).json();
    };
    const tradingStateCheck = async () => (await statusChecks(harness.app)).find((c) => c.name === 'trading-state');

    s.up = false;
    await s.inner.set(null, halted); // another replica halts trading; this one cannot hear of it
    clock.advance(harness.config.pretrade.tradingStateMaxAgeMs);
    await s.store.reload();
    // A brief outage changes nothing: the last copy still applies.
    expect((await decide()).decision).toBe('APPROVE');
    expect(await tradingStateCheck()).toEqual({ name: 'trading-state', ok: true });

    clock.advance(1);
    for (let i = 0; i < 3; i++) await s.store.reload();
    const risky = await decide();
    expect(risky.decision).toBe('REJECT');
    expect(risky.reasons.map((r: { code: string }) => r.code)).toContain('TRADING_HALTED');
    expect((await decide({ side: 'sell', reduceOnly: true })).decision).toBe('REJECT');
    const notReady = await tradingStateCheck();
    expect(notReady?.ok).toBe(false);
    expect(notReady?.detail).toContain('HALTED');
    expect(harness.logs.text()).toContain('every scope is treated as HALTED');

    s.up = true;
    await s.store.reload();
    expect(await tradingStateCheck()).toEqual({ name: 'trading-state', ok: true });
    expect((await getTradingState(harness.app)).json().global).toEqual(halted); // what it had missed
    await s.inner.set(null, { ...halted, state: 'ACTIVE', reason: 'resolved' });
    await s.store.reload();
    expect((await decide()).decision).toBe('APPROVE');
  });

  it('when the memory store is used, then the state never goes stale (this process is its only writer)', async () => {
    const clock = manualClock(NOW);
    const harness = await buildHarness({ clock, stores: {} });
    h = harness;
    clock.advance(3_600_000);
    await publishHeatmap(harness, { asOf: clock() - 1_000 });
    expect((await check(harness.app, buildRequest({ quantity: 0.1 }))).json().decision).toBe('APPROVE');
    expect(await statusChecks(harness.app)).toContainEqual({ name: 'trading-state', ok: true });
  });
});

describe('idempotency when the shared store fails', () => {
  const downStore: IdempotencyStore = {
    putIfAbsent: async () => {
      throw new Error('ECONNREFUSED (simulated)');
    },
  };

  it('when the shared store does not answer, then the decision is still made, with a warning, and de-duplicated locally', async () => {
    h = await buildHarness({ stores: { idempotency: downStore } });
    const first = await check(h.app, buildRequest({ clientOrderId: 'k-1', quantity: 0.1 }));
    expect(first.statusCode).toBe(200);
    expect(first.json().decision).toBe('APPROVE');
    expect(first.json().warnings.map((w: { code: string }) => w.code)).toContain('IDEMPOTENCY_UNAVAILABLE');

    const replay = await check(h.app, buildRequest({ clientOrderId: 'k-1', quantity: 0.1 }));
    expect(replay.json().decisionId).toBe(first.json().decisionId);
    expect((await check(h.app, buildRequest({ clientOrderId: 'k-1', quantity: 0.2 }))).statusCode).toBe(409);
  });

  it('when the shared store hangs, then the request still answers (after the short timeout)', async () => {
    const hanging: IdempotencyStore = { putIfAbsent: () => new Promise(() => {}) };
    h = await buildHarness({ stores: { idempotency: hanging } });
    const res = await check(h.app, buildRequest({ clientOrderId: 'k-2', quantity: 0.1 }));
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings.map((w: { code: string }) => w.code)).toContain('IDEMPOTENCY_UNAVAILABLE');
  });
});

/** A shared idempotency store that can be switched off; counts the calls made to it. */
function switchableIdempotency(clock: () => number) {
  const inner = createMemoryIdempotencyStore(clock);
  /** `answers`: how many more calls it answers before going down (Infinity: up). */
  const sw = { up: true, answers: Number.POSITIVE_INFINITY, calls: 0 };
  const store: IdempotencyStore = {
    putIfAbsent: async (key, entry, ttlMs) => {
      sw.calls += 1;
      if (sw.up && sw.answers <= 0) sw.up = false;
      if (!sw.up) throw new Error('ECONNREFUSED (simulated)');
      sw.answers -= 1;
      return inner.putIfAbsent(key, entry, ttlMs);
    },
  };
  return Object.assign(sw, { store, inner });
}

describe('idempotency when the shared store comes back', () => {
  const TTL_MS = 60_000;
  const sharedKey = (clientOrderId: string) => `p:idem:pretrader//${clientOrderId}`;

  async function harnessWith(shared: ReturnType<typeof switchableIdempotency>, clock: ReturnType<typeof manualClock>) {
    const harness = await buildHarness({
      clock,
      env: { REDIS_KEY_PREFIX: 'p:', IDEMPOTENCY_TTL_MS: String(TTL_MS) },
      stores: { idempotency: shared.store },
    });
    h = harness;
    const decide = async (overrides: Record<string, unknown> = {}) => {
      await publishHeatmap(harness, { asOf: clock() - 1_000 }); // keep the map fresh
      return check(harness.app, buildRequest({ quantity: 0.1, ...overrides }));
    };
    return { harness, decide };
  }

  it('when the store answers, then an idempotent request makes one store call and one without clientOrderId none, before and after an outage record was pushed', async () => {
    const clock = manualClock(NOW);
    const shared = switchableIdempotency(clock);
    const { decide } = await harnessWith(shared, clock);

    expect((await decide({ clientOrderId: 'k-0' })).statusCode).toBe(200);
    expect(shared.calls).toBe(1);
    shared.up = false;
    const d1 = (await decide({ clientOrderId: 'k-1' })).json();
    expect(shared.calls).toBe(2);
    shared.up = true;
    const retry = await decide({ clientOrderId: 'k-1' }); // pushes D1: the request's one call
    expect(retry.json().decisionId).toBe(d1.decisionId);
    expect(shared.calls).toBe(3);
    expect(shared.inner.peek(sharedKey('k-1'))?.entry.response).toEqual(d1);

    await decide();
    expect(shared.calls).toBe(3);
    expect((await decide({ clientOrderId: 'k-1' })).json().decisionId).toBe(d1.decisionId);
    expect((await decide({ clientOrderId: 'k-2' })).statusCode).toBe(200);
    expect(shared.calls).toBe(5);
  });

  it('when a push finds the store down again, then the records stay local and the next round pushes them with the TTL they have left', async () => {
    const clock = manualClock(NOW);
    const shared = switchableIdempotency(clock);
    const { harness, decide } = await harnessWith(shared, clock);
    shared.up = false;
    const d1 = (await decide({ clientOrderId: 'k-1' })).json();
    const d2 = (await decide({ clientOrderId: 'k-2' })).json();

    // The store answers one request (k-3), which starts a push of k-1 and k-2; it is down again for the push.
    shared.up = true;
    shared.answers = 1;
    expect((await decide({ clientOrderId: 'k-3' })).statusCode).toBe(200);
    await vi.waitFor(() => expect(harness.logs.text()).toContain('local records will be pushed after its next answer'));
    expect(shared.inner.peek(sharedKey('k-1'))).toBeUndefined();
    shared.up = true;
    shared.answers = Number.POSITIVE_INFINITY;
    clock.advance(TTL_MS - 10);
    // The next answer (k-4) starts the next round.
    expect((await decide({ clientOrderId: 'k-4' })).statusCode).toBe(200);
    await vi.waitFor(() => ['k-1', 'k-2'].forEach((id) => expect(shared.inner.peek(sharedKey(id))).toBeDefined()));
    const stored = (id: string) => shared.inner.peek<{ decisionId: string }>(sharedKey(id));
    expect(stored('k-1')?.entry.response.decisionId).toBe(d1.decisionId);
    expect(stored('k-2')?.entry.response.decisionId).toBe(d2.decisionId);
    expect(stored('k-1')?.expiresAt).toBe(NOW + TTL_MS); // the TTL left, not a fresh one
  });

  it('when an outage record is older than the TTL, then it is forgotten: a retry once the store answers is a new decision', async () => {
    const clock = manualClock(NOW);
    const shared = switchableIdempotency(clock);
    const { decide } = await harnessWith(shared, clock);
    shared.up = false;
    const d1 = (await decide({ clientOrderId: 'k-1' })).json();
    shared.up = true;
    clock.advance(TTL_MS);
    const later = await decide({ clientOrderId: 'k-1', quantity: 0.2 });
    expect(later.statusCode).toBe(200);
    expect(later.json().decisionId).not.toBe(d1.decisionId);
    expect(later.json().warnings.map((w: { code: string }) => w.code)).not.toContain('IDEMPOTENCY_UNAVAILABLE');
  });
});

describe('hot path without Redis', () => {
  it('when Redis cannot be reached at all and a journal is configured, then a check is still answered and its record is in the journal', async () => {
    // Port 1 on loopback: nothing listens, every command fails.
    const unreachable = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    unreachable.on('error', () => {});
    const keys = redisKeys('lg-unreachable:');
    const dir = journalDir();
    try {
      // The gate's Redis stores on a Redis that never answers; the trading state stays in memory.
      const harness = await buildHarness({
        env: { SHUTDOWN_TIMEOUT_MS: '100', AUDIT_JOURNAL_DIR: dir, INSTANCE_ID: 'gate-c' },
        stores: {
          idempotency: createRedisIdempotencyStore(unreachable),
          auditLog: createRedisAuditLog(unreachable, { streamKey: keys.auditStream(), decisionKey: (id) => keys.decision(id), maxLen: 1_000, decisionTtlMs: 60_000 }),
        },
      });
      const res = await check(harness.app, buildRequest({ quantity: 0.1 }));
      expect(res.statusCode).toBe(200);
      expect(res.json().decision).toBe('APPROVE');
      await harness.close();
      const journaled = readdirSync(dir)
        .filter((n) => n.endsWith('.jsonl'))
        .map((n) => readFileSync(join(dir, n), 'utf8'))
        .join('');
      expect(journaled).toContain(res.json().decisionId);
    } finally {
      unreachable.disconnect();
    }
  });
});
