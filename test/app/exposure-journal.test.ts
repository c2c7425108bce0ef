import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, TEST_KEYS, type TestApp, type TestAppOptions } from '../helpers/app.js';
import { startPrivateRedis, waitUntil } from '../helpers/redis-server.js';
import { randomPrefix } from '../helpers/redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';

/*
 * Fills and releases answered while Redis is down are not lost: they go to the local
 * journal (fsynced before the answer) and are replayed into Redis when it is back, at the
 * next start, or by another replica; replays count each once (fillId, decisionId).
 * A private redis-server with AOF, stopped and started by the test.
 */

const ACCOUNT = 'acct-journal';
/** One execution time for every post of a fill: a resend must be the same body. */
const EXECUTED_AT = new Date(Date.now() - 1_000).toISOString();

describe('fills and releases while Redis is down', () => {
  let redisServer: Awaited<ReturnType<typeof startPrivateRedis>>;
  let aofDir: string;
  let journalDir: string;
  let prefix: string;
  const clients: Redis[] = [];
  const apps: TestApp[] = [];

  beforeEach(async () => {
    aofDir = mkdtempSync(join(tmpdir(), 'liq-gate-exp-aof-'));
    journalDir = mkdtempSync(join(tmpdir(), 'liq-gate-exp-journal-'));
    prefix = randomPrefix('exp-journal');
    redisServer = await startPrivateRedis({ aofDir });
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    for (const c of clients.splice(0)) c.disconnect();
    await redisServer?.stop();
    rmSync(aofDir, { recursive: true, force: true });
    rmSync(journalDir, { recursive: true, force: true });
  });

  const startApp = async (instanceId: string, env: Record<string, string> = {}, stores?: TestAppOptions['stores']) => {
    const client = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => {});
    clients.push(client);
    const t = await buildTestApp({
      store: 'redis',
      redis: client,
      env: { REDIS_KEY_PREFIX: prefix, INSTANCE_ID: instanceId, AUDIT_JOURNAL_DIR: journalDir, AUDIT_COMMIT_TIMEOUT_MS: '200', ...env },
      ...(stores ? { stores } : {}),
    });
    apps.push(t);
    return t;
  };
  const postFill = (t: TestApp, fillId: string, quantity = 0.5) =>
    t.app.inject({
      method: 'POST',
      url: '/fills',
      headers: bearer(TEST_KEYS.pretrade),
      payload: { fillId, accountId: ACCOUNT, symbol: 'BTCUSDT', side: 'buy', quantity, price: 100_000, executedAt: EXECUTED_AT },
    });
  const position = async (t: TestApp): Promise<number | null> => {
    const res = await t.app.inject({ method: 'GET', url: `/accounts/${ACCOUNT}/exposure`, headers: bearer(TEST_KEYS.all) });
    if (res.statusCode !== 200) return null;
    return (res.json<{ positions: { symbol: string; quantity: number }[] }>().positions.find((p) => p.symbol === 'BTCUSDT')?.quantity ?? 0);
  };
  const journaling = async (t: TestApp) =>
    (await t.app.inject({ method: 'GET', url: '/health/status' })).json<{ checks: { name: string }[] }>().checks.some((c) => c.name === 'exposure-journal');
  const segments = () => readdirSync(join(journalDir, 'exposure')).filter((n) => n.endsWith('.jsonl'));

  it('when a fill is posted twice and a release once during the outage, then each is answered, and once Redis is back the position has the fill exactly once', async () => {
    const t = await startApp('gate-a');
    await redisServer.stop();

    const first = await postFill(t, 'f-outage-1');
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ status: 'accepted', flags: ['JOURNALED'] });
    expect((await postFill(t, 'f-outage-1')).json()).toMatchObject({ flags: ['JOURNALED'] }); // the engine's resend
    const release = await t.app.inject({ method: 'POST', url: '/decisions/0b9c7c52-1c1e-4d4a-9c53-000000000001/release', headers: bearer(TEST_KEYS.pretrade), payload: { accountId: ACCOUNT } });
    expect(release.statusCode).toBe(200);
    expect(release.json()).toEqual({ decisionId: '0b9c7c52-1c1e-4d4a-9c53-000000000001', accountId: ACCOUNT, released: null, journaled: true });
    expect(await journaling(t)).toBe(true);

    await redisServer.start();
    await waitUntil(async () => !(await journaling(t)), 30_000, 'the journal replayed');
    expect(await position(t)).toBe(0.5);
    const analysis = await t.app.inject({ method: 'GET', url: '/posttrade/fills/f-outage-1', headers: bearer(TEST_KEYS.read) });
    expect(analysis.statusCode).toBe(200);

    // Back on Redis: the resend is a plain duplicate, and the position does not move.
    const again = await postFill(t, 'f-outage-1');
    expect(again.json()).toMatchObject({ status: 'duplicate', flags: [] });
    expect(await position(t)).toBe(0.5);
  }, 60_000);

  it('when a journaled fill is resent with another body, then it is refused 409 at once, the same body gets its 202 again without growing the journal, and after the replay Redis refuses it', async () => {
    const t = await startApp('gate-a');
    await redisServer.stop();

    const first = await postFill(t, 'f-conflict', 0.5);
    expect(first.statusCode).toBe(202);
    const other = await postFill(t, 'f-conflict', 0.7);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: 'FILL_CONFLICT', details: [{ path: 'body.fillId' }] });
    expect(other.json().message).toContain('journaled');
    const same = await postFill(t, 'f-conflict', 0.5);
    expect(same.statusCode).toBe(202);
    expect(same.json()).toEqual(first.json());
    // Two bodies under one new fillId at the same moment: one is journaled, the other refused.
    const raced = await Promise.all([postFill(t, 'f-race', 0.5), postFill(t, 'f-race', 0.7)]);
    expect(raced.map((r) => r.statusCode).sort()).toEqual([202, 409]);
    const lines = segments().flatMap((n) => readFileSync(join(journalDir, 'exposure', n), 'utf8').split('\n').filter((l) => l.startsWith('fill:f-conflict\t')));
    expect(lines).toHaveLength(1);

    await redisServer.start();
    await waitUntil(async () => !(await journaling(t)), 30_000, 'the journal replayed');
    expect(await position(t)).toBe(raced[0]!.statusCode === 202 ? 1 : 1.2);
    expect((await postFill(t, 'f-conflict', 0.7)).statusCode).toBe(409);
    expect((await postFill(t, 'f-conflict', 0.5)).json()).toMatchObject({ status: 'duplicate' });
    expect(await position(t)).toBe(raced[0]!.statusCode === 202 ? 1 : 1.2);
  }, 60_000);

  it('when the service restarts with a fill still journaled and its stores still refuse writes, then the index is rebuilt from the journal: another body is refused 409, the same body answered 202', async () => {
    const before = await startApp('gate-a');
    await redisServer.stop();
    expect((await postFill(before, 'f-restart-conflict', 0.5)).statusCode).toBe(202);
    await apps.splice(0)[0]!.close();
    await redisServer.start();

    // The service cannot start without Redis; this one starts on it, but every fill write fails.
    const refused = (): Promise<never> => Promise.reject(new Error('write refused'));
    const after = await startApp('gate-a', {}, (built) => ({
      posttrade: { ...built.posttrade, addFill: refused },
      exposure: { ...built.exposure, applyFill: refused },
    }));
    const other = await postFill(after, 'f-restart-conflict', 0.7);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: 'FILL_CONFLICT' });
    expect((await postFill(after, 'f-restart-conflict', 0.5)).json()).toMatchObject({ status: 'accepted', flags: ['JOURNALED'] });
    await apps.splice(0)[0]!.close();

    const healthy = await startApp('gate-a');
    await waitUntil(async () => (await position(healthy)) === 0.5 && segments().length === 0, 30_000, 'the journal replayed');
    expect(await position(healthy)).toBe(0.5);
  }, 60_000);

  it('when a reconciliation arrives during the outage, then it is a 503 that says it was not applied nor journaled, and once Redis is back the positions are the ones before it', async () => {
    const t = await startApp('gate-a');
    const reconcile = (quantity: number, asOf: string) =>
      t.app.inject({
        method: 'PUT',
        url: `/accounts/${ACCOUNT}/positions`,
        headers: bearer(TEST_KEYS.pretrade),
        payload: { asOf, positions: [{ symbol: 'BTCUSDT', quantity, entryPrice: 100_000 }] },
      });
    const firstAsOf = new Date(Date.now() - 5_000).toISOString();
    expect((await reconcile(0.25, firstAsOf)).statusCode).toBe(200);
    await redisServer.stop();

    const refused = await reconcile(2, new Date(Date.now() - 1_000).toISOString());
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ error: 'STORE_UNAVAILABLE' });
    expect(refused.json().message).toContain('Positions were not reconciled');
    expect(refused.json().message).toContain('not journaled');
    expect(existsSync(join(journalDir, 'exposure')) ? segments() : []).toEqual([]);

    await redisServer.start();
    await waitUntil(async () => (await position(t)) !== null, 30_000, 'Redis answering again');
    expect(await position(t)).toBe(0.25);
    const exposure = await t.app.inject({ method: 'GET', url: `/accounts/${ACCOUNT}/exposure`, headers: bearer(TEST_KEYS.all) });
    expect(exposure.json()).toMatchObject({ reconciledAt: firstAsOf });
  }, 60_000);

  it('when AUDIT_DURABILITY=replica and no replica acknowledges, then a fill is journaled, a halt is refused as not durable, and both work once a replica is attached', async () => {
    const t = await startApp('gate-a', { AUDIT_DURABILITY: 'replica', AUDIT_WAIT_TIMEOUT_MS: '50' });
    const fill = await postFill(t, 'f-no-replica');
    expect(fill.statusCode).toBe(202);
    expect(fill.json()).toMatchObject({ flags: ['JOURNALED'] });
    const halt = await t.app.inject({ method: 'PUT', url: '/admin/trading-state?wait=0', headers: bearer(TEST_KEYS.admin), payload: { state: 'HALTED', reason: 'test' } });
    expect(halt.statusCode).toBe(503);
    expect(halt.json().message).toContain('no replica acknowledged it');
    const reconcile = await t.app.inject({
      method: 'PUT',
      url: `/accounts/${ACCOUNT}/positions`,
      headers: bearer(TEST_KEYS.pretrade),
      payload: { asOf: new Date(Date.now() - 1_000).toISOString(), positions: [] },
    });
    expect(reconcile.statusCode).toBe(503);
    expect(reconcile.json().message).toContain('no Redis replica acknowledged the write');

    const replica = await startPrivateRedis({ replicaOf: redisServer.port });
    try {
      await waitUntil(async () => (await position(t)) === 0.5 && !(await journaling(t)), 30_000, 'the journal replayed once a replica acknowledges');
      expect((await t.app.inject({ method: 'PUT', url: '/admin/trading-state?wait=0', headers: bearer(TEST_KEYS.admin), payload: { state: 'HALTED', reason: 'test' } })).statusCode).toBe(200);
      const onReplica = new Redis(replica.url, { maxRetriesPerRequest: 1 });
      try {
        const fills = await onReplica.hkeys(`${prefix}exp:{acct:${ACCOUNT}}:fills`);
        expect(fills).toEqual(['f-no-replica']);
        // The post-trade record of the fill too (it waits for the replica like the positions).
        expect(await onReplica.exists(redisKeys(prefix).posttradeFill('f-no-replica'))).toBe(1);
      } finally {
        onReplica.disconnect();
      }
    } finally {
      await replica.stop();
    }
  }, 60_000);

  it('when the service stops during the outage with fills journaled, then the next start on the same journal replays them once Redis is back', async () => {
    const before = await startApp('gate-a');
    await redisServer.stop();
    expect((await postFill(before, 'f-restart-1', 0.25)).json()).toMatchObject({ flags: ['JOURNALED'] });
    expect((await postFill(before, 'f-restart-2', 0.5)).json()).toMatchObject({ flags: ['JOURNALED'] });
    await apps.splice(0)[0]!.close();
    expect(segments().length).toBeGreaterThan(0);

    await redisServer.start();
    const after = await startApp('gate-a');
    await waitUntil(async () => (await position(after)) === 0.75 && segments().length === 0, 30_000, 'the journal replayed at start');
    expect(await position(after)).toBe(0.75);
  }, 60_000);

  it('when the replica that journaled a fill never comes back, then another replica on the same volume claims its journal and replays it once', async () => {
    const gone = await startApp('gate-gone', { AUDIT_JOURNAL_ORPHAN_MS: '1000' });
    await redisServer.stop();
    expect((await postFill(gone, 'f-orphan-1')).json()).toMatchObject({ flags: ['JOURNALED'] });
    await apps.splice(0)[0]!.close();

    await redisServer.start();
    const other = await startApp('gate-other', { AUDIT_JOURNAL_ORPHAN_MS: '1000' });
    await waitUntil(async () => (await position(other)) === 0.5 && segments().length === 0, 30_000, 'the orphaned journal claimed and replayed');
    expect(await position(other)).toBe(0.5);
  }, 60_000);
});
