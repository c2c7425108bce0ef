import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Redis } from 'ioredis';
import { DECISION_LOOKUP_TTL_MS } from '../../../src/modules/pretrade/index.js';
import type { AuditLog } from '../../../src/stores/audit-log.js';
import { recordFromFields } from '../../../src/stores/audit-log.redis.js';
import { redisKeys } from '../../../src/stores/redis-keys.js';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { auditWritten } from '../../helpers/observe.js';
import { reloadable } from '../../helpers/stores.js';
import { buildRequest, check, getTradingState, NOW, publishHeatmap, putTradingState } from './helpers.js';

describe('pre-trade service on a real Redis', () => {
  let t: TestApp;
  let tradingState: ReturnType<typeof reloadable>;
  const clock = manualClock(NOW);

  beforeEach(async () => {
    clock.set(NOW);
    // The Redis trading-state store, which this test can make the app reload from now.
    t = await buildTestApp({ clock, store: 'redis', stores: (built) => ({ tradingState: (tradingState = reloadable(built.tradingState)) }) });
    await publishHeatmap(t);
  });
  afterEach(async () => {
    await t.close();
  });

  const redis = (): Redis => {
    if (!t.redis) throw new Error('test app has no Redis');
    return t.redis;
  };

  it('when the same clientOrderId comes with the same body, then the stored decision comes back; another body gets 409', async () => {
    const first = await check(t.app, buildRequest({ clientOrderId: 'r-1', accountId: 'acct' }));
    const again = await check(t.app, buildRequest({ clientOrderId: 'r-1', accountId: 'acct' }));
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replay']).toBe('true');
    const other = await check(t.app, buildRequest({ clientOrderId: 'r-1', accountId: 'acct', side: 'sell' }));
    expect(other.statusCode).toBe(409);

    const key = `${t.prefix}idem:pretrader/acct/r-1`; // scoped by the caller's key id
    const ttl = await redis().pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(t.config.pretrade.idempotencyTtlMs);
  });

  it('when identical idempotent requests race, then all get one decision and it is audited once', async () => {
    const res = await Promise.all(Array.from({ length: 5 }, () => check(t.app, buildRequest({ clientOrderId: 'race' }))));
    const ids = new Set(res.map((r) => r.json().decisionId));
    expect(ids.size).toBe(1);
    await auditWritten(t.app);
    const entries = await redis().xrange(`${t.prefix}audit`, '-', '+');
    expect(entries).toHaveLength(1);
  });

  it('when a decision is made, then it lands in the audit stream under the prefix and GET /decisions reads it from Redis', async () => {
    const made = (await check(t.app, buildRequest())).json();
    await auditWritten(t.app);

    const entries = await redis().xrangeBuffer(`${t.prefix}audit`, '-', '+');
    expect(entries).toHaveLength(1);
    const record = recordFromFields(entries[0]?.[1] ?? []);
    expect(record?.decisionId).toBe(made.decisionId);
    expect(JSON.parse(record?.json ?? '{}')).toMatchObject({ keyId: 'pretrader', policyVersion: made.policyVersion, heatmapVersion: made.heatmapVersion });
    // The lookup key is an index: it holds the stream entry's id, not the record again.
    expect(await redis().get(redisKeys(t.prefix).decision(made.decisionId))).toBe(entries[0]?.[0].toString());
    expect(await redis().pttl(redisKeys(t.prefix).decision(made.decisionId))).toBeGreaterThan(0);

    const res = await t.app.inject({ method: 'GET', url: `/decisions/${made.decisionId}`, headers: bearer(TEST_KEYS.read) });
    expect(res.statusCode).toBe(200);
    expect(res.json().decision).toEqual(made);
  });

  it('when a decision is written, then its lookup key is kept 7 days, well past the 24 h idempotency TTL', async () => {
    const made = (await check(t.app, buildRequest())).json();
    await auditWritten(t.app);
    const ttl = await redis().pttl(redisKeys(t.prefix).decision(made.decisionId));
    expect(ttl).toBeGreaterThan(t.config.pretrade.idempotencyTtlMs);
    expect(ttl).toBeGreaterThan(DECISION_LOOKUP_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(DECISION_LOOKUP_TTL_MS);
  });

  it('when trading is halted on one replica, then it is stored with who and when, and another replica applies it', async () => {
    const replica = await buildTestApp({ clock, store: 'redis', env: { REDIS_KEY_PREFIX: t.prefix } });
    try {
      await publishHeatmap(replica);
      expect((await check(replica.app, buildRequest({ quantity: 0.1 }))).json().decision).toBe('APPROVE');

      const put = await putTradingState(t.app, { symbol: 'BTCUSDT', state: 'HALTED', reason: 'venue outage' });
      expect(put.statusCode).toBe(200);
      const stored = JSON.parse((await redis().hget(`${t.prefix}trading-state`, 'BTCUSDT')) ?? '{}');
      expect(stored).toEqual({ state: 'HALTED', reason: 'venue outage', updatedBy: 'admin', updatedAt: new Date(NOW).toISOString() });

      // Pub/sub delivery is asynchronous: wait for the replica's copy to change.
      await vi.waitFor(async () => {
        expect((await getTradingState(replica.app)).json().symbols.BTCUSDT.state).toBe('HALTED');
      });
      const res = (await check(replica.app, buildRequest({ quantity: 0.1 }))).json();
      expect(res.decision).toBe('REJECT');
      expect(res.reasons.map((r: { code: string }) => r.code)).toContain('TRADING_HALTED');
    } finally {
      await replica.close();
    }
  });

  it('when a stored entry is invalid (hand-written "halted"), then its scope is HALTED, shown as invalid in GET, and logged once', async () => {
    await redis().hset(`${t.prefix}trading-state`, 'BTCUSDT', JSON.stringify({ state: 'halted', reason: 'by hand', updatedBy: 'ops', updatedAt: new Date(NOW).toISOString() }));
    await tradingState.reload();
    await tradingState.reload();

    const view = (await getTradingState(t.app)).json();
    expect(view.symbols.BTCUSDT.state).toBe('HALTED');
    expect(view.symbols.BTCUSDT.reason).toMatch(/^INVALID stored trading-state entry/);
    expect(view.global.state).toBe('ACTIVE');
    const risky = (await check(t.app, buildRequest({ quantity: 0.1 }))).json();
    expect(risky.decision).toBe('REJECT');
    expect(risky.reasons.map((r: { code: string }) => r.code)).toContain('TRADING_HALTED');
    expect((await check(t.app, buildRequest({ quantity: 0.1, side: 'sell', reduceOnly: true }))).json().decision).toBe('REJECT');
    expect(t.logs.lines.filter((l) => l.includes('invalid trading-state entry'))).toHaveLength(1);

    // An admin setting the scope again replaces the invalid entry.
    await putTradingState(t.app, { symbol: 'BTCUSDT', state: 'ACTIVE', reason: 'fixed' });
    await tradingState.reload();
    expect((await check(t.app, buildRequest({ quantity: 0.1 }))).json().decision).toBe('APPROVE');
  });

  it('when a replica starts after the change, then it loads the stored state', async () => {
    await putTradingState(t.app, { state: 'REDUCING', reason: 'risk off' });
    const late = await buildTestApp({ clock, store: 'redis', env: { REDIS_KEY_PREFIX: t.prefix } });
    try {
      expect((await getTradingState(late.app)).json().global).toMatchObject({ state: 'REDUCING', updatedBy: 'admin' });
    } finally {
      await late.close();
    }
  });
});

describe('audit on Redis when Redis is briefly unavailable', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('when the first appends fail, then the records go to the journal and are replayed into the stream once, in order', async () => {
    let failuresLeft = 2;
    const flaky = (real: AuditLog): AuditLog => ({
      append: async (batch) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('ECONNREFUSED (simulated)');
        }
        await real.append(batch);
      },
      get: (id) => real.get(id),
    });
    const dir = mkdtempSync(join(tmpdir(), 'lg-journal-'));
    try {
      t = await buildTestApp({ clock: () => NOW, store: 'redis', env: { AUDIT_JOURNAL_DIR: dir }, stores: (built) => ({ auditLog: flaky(built.auditLog) }) });
      await publishHeatmap(t);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await check(t.app, buildRequest({ quantity: 0.1 }))).json().decisionId);
      const keys = redisKeys(t.prefix);
      await vi.waitFor(async () => expect((await t!.redis!.xrange(keys.auditStream(), '-', '+')).length).toBe(3), { timeout: 15_000, interval: 50 });
      expect(failuresLeft).toBe(0);
      // Appended again (as after a crash between replay and unlink): still once each.
      await t.stores.auditLog.append(ids.map((id) => ({ decisionId: id, json: '{"again":true}' })));
      const entries = await t.redis!.xrangeBuffer(keys.auditStream(), '-', '+');
      expect(entries.map(([, f]) => recordFromFields(f)?.decisionId)).toEqual(ids);
      // Replayed records are found through the index like any other.
      const looked = await t.app.inject({ method: 'GET', url: `/decisions/${ids[0]}`, headers: bearer(TEST_KEYS.read) });
      expect(looked.json().decisionId).toBe(ids[0]);
    } finally {
      await t?.close();
      t = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("when AUDIT_ARCHIVE_DIR is set, then answered decisions are archived to the day's gzip file and still answered by id", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-archive-'));
    try {
      t = await buildTestApp({ clock: () => NOW, store: 'redis', env: { AUDIT_ARCHIVE_DIR: dir, INSTANCE_ID: 'gate-x' } });
      await publishHeatmap(t);
      const id = (await check(t.app, buildRequest({ quantity: 0.1 }))).json().decisionId;
      // The archiver runs a round every second.
      await vi.waitFor(() => expect(readdirSync(dir)).toHaveLength(1), { timeout: 10_000, interval: 50 });
      const files = readdirSync(dir);
      expect(files[0]).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.gate-x\.jsonl\.gz$/);
      await vi.waitFor(() => expect(gunzipSync(readFileSync(join(dir, files[0] ?? ''))).toString()).toContain(id), { timeout: 10_000, interval: 50 });
      // Archived but inside the lookup window: still answered by id.
      const looked = await t.app.inject({ method: 'GET', url: `/decisions/${id}`, headers: bearer(TEST_KEYS.read) });
      expect(looked.statusCode).toBe(200);
    } finally {
      await t?.close();
      t = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
