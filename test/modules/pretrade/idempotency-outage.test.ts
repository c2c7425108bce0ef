import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryAuditLog } from '../../../src/stores/audit-log.js';
import { createMemoryExposureStore } from '../../../src/stores/exposure-store.memory.js';
import type { ExposureStore } from '../../../src/stores/exposure-store.js';
import { createRedisIdempotencyStore } from '../../../src/stores/idempotency-store.redis.js';
import { randomPrefix } from '../../helpers/redis.js';
import { answers as redisAnswers, startPrivateRedis, waitUntil } from '../../helpers/redis-server.js';
import { IDEMPOTENCY_TIMEOUT_MS } from '../../../src/modules/pretrade/gate.js';
import { buildTestApp, manualClock, type TestApp } from '../../helpers/app.js';
import { auditWritten } from '../../helpers/observe.js';
import { buildRequest, check, NOW, publishHeatmap } from './helpers.js';

/**
 * Idempotency across a Redis outage and recovery, on a private redis-server the tests stop
 * and start. Each replica is the app with its own Redis client for idempotency, sharing the
 * key prefix (and, here, one audit log, so "audited once" counts both replicas, and one
 * exposure store, shared as in production); every
 * other store stays in memory so only idempotency meets the outage.
 */

const TTL_MS = 600_000;

type Replica = TestApp;

let server: Awaited<ReturnType<typeof startPrivateRedis>>;
beforeAll(async () => {
  server = await startPrivateRedis();
});
afterAll(async () => {
  await server.stop();
});

const warningCodes = (body: { warnings: { code: string }[] }) => body.warnings.map((w) => w.code);

let opened: { replica: Replica; client: Redis }[] = [];
let prefix: string;
let auditLog: ReturnType<typeof createMemoryAuditLog>;
/** Replicas share exposure as they do in production (a replay stands only on an open reservation). */
let exposure: ExposureStore;
const clock = manualClock(NOW);

beforeEach(async () => {
  clock.set(NOW);
  prefix = randomPrefix('idem-outage');
  auditLog = createMemoryAuditLog(1_000);
  exposure = createMemoryExposureStore({ fillRetentionMs: 86_400_000 });
  if (!(await answers())) await server.start();
});
afterEach(async () => {
  for (const { replica, client } of opened) {
    await replica.close();
    client.disconnect();
  }
  opened = [];
});

const answers = (): Promise<boolean> => redisAnswers(server.url);

/** A replica wired like production (one Redis client, offline queue, one retry per command). */
async function buildReplica(): Promise<Replica> {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on('error', () => {});
  const replica = await buildTestApp({
    clock,
    // Decisions stand for a minute: these tests move the clock to see TTLs, not validity.
    env: { REDIS_KEY_PREFIX: prefix, SHUTDOWN_TIMEOUT_MS: '200', IDEMPOTENCY_TTL_MS: String(TTL_MS), DECISION_VALID_MS: '60000' },
    stores: { idempotency: createRedisIdempotencyStore(client), auditLog, exposure },
  });
  await publishHeatmap(replica);
  opened.push({ replica, client });
  return replica;
}

const clientOf = (r: Replica): Redis => {
  const found = opened.find((o) => o.replica === r);
  if (!found) throw new Error('not a replica of this test');
  return found.client;
};

async function redisDown(): Promise<void> {
  await server.stop();
}

/** Starts Redis again and waits until every replica's client answers. */
async function redisBack(): Promise<void> {
  await server.start();
  for (const { client } of opened) {
    await waitUntil(async () => client.ping().then((p) => p === 'PONG', () => false), 10_000, 'the replica client to reconnect');
  }
}

/** Decision D1 made on `r` while Redis is down. */
async function decideDuringOutage(r: Replica, body: Record<string, unknown>) {
  await redisDown();
  const res = await check(r.app, body);
  expect(res.statusCode).toBe(200);
  expect(warningCodes(res.json())).toContain('IDEMPOTENCY_UNAVAILABLE');
  return res.json<{ decisionId: string }>();
}

async function auditedIds(...replicas: Replica[]): Promise<string[]> {
  for (const r of replicas) await auditWritten(r.app);
  return auditLog.entries().map((e) => e.decisionId);
}

describe('idempotency after a Redis outage, on the replica that decided during it', () => {
  it('when the same body is retried once Redis is back, then the outage decision is replayed and audited once', async () => {
    const a = await buildReplica();
    const body = buildRequest({ clientOrderId: 'out-1', quantity: 0.1 });
    const d1 = await decideDuringOutage(a, body);

    await redisBack();
    const retry = await check(a.app, body);
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect(retry.json()).toEqual(d1);
    expect(await auditedIds(a)).toEqual([d1.decisionId]);
  });

  it('when another body is sent with the same clientOrderId once Redis is back, then 409 naming the outage decision', async () => {
    const a = await buildReplica();
    const d1 = await decideDuringOutage(a, buildRequest({ clientOrderId: 'out-2', quantity: 0.1 }));

    await redisBack();
    const other = await check(a.app, buildRequest({ clientOrderId: 'out-2', quantity: 0.2 }));
    expect(other.statusCode).toBe(409);
    expect(JSON.stringify(other.json())).toContain(d1.decisionId);
    expect(await auditedIds(a)).toEqual([d1.decisionId]);
  });

  it('when the retry comes while Redis is still down, then the local record answers, as before', async () => {
    const a = await buildReplica();
    const body = buildRequest({ clientOrderId: 'out-3', quantity: 0.1 });
    const d1 = await decideDuringOutage(a, body);
    const retry = await check(a.app, body);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect(retry.json().decisionId).toBe(d1.decisionId);
    expect((await check(a.app, buildRequest({ clientOrderId: 'out-3', quantity: 0.2 }))).statusCode).toBe(409);
  });
});

describe('idempotency after a Redis outage, seen from another replica', () => {
  it('when the deciding replica has pushed its outage record, then another replica replays it, with the remaining TTL in Redis', async () => {
    const a = await buildReplica();
    const b = await buildReplica();
    const body = buildRequest({ clientOrderId: 'out-4', quantity: 0.1 });
    const d1 = await decideDuringOutage(a, body);

    await redisBack();
    clock.advance(10_000); // less than the trading-state copies' max age (3 refreshes)
    await publishHeatmap(a, { asOf: clock() - 1_000 });
    // Any answer from Redis on `a` (here an unrelated idempotent order) starts the push.
    expect((await check(a.app, buildRequest({ clientOrderId: 'unrelated', quantity: 0.1 }))).statusCode).toBe(200);
    const key = `${prefix}idem:pretrader//out-4`;
    await waitUntil(async () => (await clientOf(a).exists(key)) === 1, 5_000, 'the outage record pushed to Redis');

    const pttl = await clientOf(a).pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(TTL_MS - 10_000);

    const onB = await check(b.app, body);
    expect(onB.headers['idempotent-replay']).toBe('true');
    expect(onB.json()).toEqual(d1);
    expect((await check(b.app, buildRequest({ clientOrderId: 'out-4', quantity: 0.2 }))).statusCode).toBe(409);
    expect((await auditedIds(a, b)).filter((id) => id === d1.decisionId)).toHaveLength(1);
  });

  it('when the deciding replica retries first, then its retry pushes the record and another replica replays it', async () => {
    const a = await buildReplica();
    const b = await buildReplica();
    const body = buildRequest({ clientOrderId: 'out-5', quantity: 0.1 });
    const d1 = await decideDuringOutage(a, body);

    await redisBack();
    expect((await check(a.app, body)).json().decisionId).toBe(d1.decisionId);
    const onB = await check(b.app, body);
    expect(onB.headers['idempotent-replay']).toBe('true');
    expect(onB.json().decisionId).toBe(d1.decisionId);
    expect(await auditedIds(a, b)).toEqual([d1.decisionId]);
  });

  it('when another replica stored its own decision in Redis first, then that one wins everywhere and the local record is dropped', async () => {
    const a = await buildReplica();
    const b = await buildReplica();
    const body = buildRequest({ clientOrderId: 'out-6', quantity: 0.1 });
    const d1 = await decideDuringOutage(a, body);

    await redisBack();
    // `b` answers before `a` pushed D1 (a split): its decision R goes to Redis.
    const r = (await check(b.app, body)).json<{ decisionId: string }>();
    expect(r.decisionId).not.toBe(d1.decisionId);

    const onA = await check(a.app, body);
    expect(onA.headers['idempotent-replay']).toBe('true');
    expect(onA.json()).toEqual(r);
    const conflict = await check(a.app, buildRequest({ clientOrderId: 'out-6', quantity: 0.2 }));
    expect(conflict.statusCode).toBe(409);
    expect(JSON.stringify(conflict.json())).toContain(r.decisionId);
    expect(a.logs.text()).toContain(d1.decisionId); // the split is logged with both decisions
    expect(a.logs.text()).toContain(r.decisionId);
    expect(await auditedIds(a, b)).toEqual([d1.decisionId, r.decisionId]); // both answers given are audited
  });
});

describe('idempotency when the shared store answers late', () => {
  it('when identical requests race and the first one\'s write outlasts the store timeout, then every answer is the same decision', async () => {
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => {});
    const shared = createRedisIdempotencyStore(client);
    let calls = 0;
    // The first write reaches Redis only after the gate's 250 ms timeout; the others at once.
    const slowFirst = {
      putIfAbsent: async <T>(...args: Parameters<typeof shared.putIfAbsent<T>>) => {
        if (calls++ === 0) await new Promise((resolve) => setTimeout(resolve, IDEMPOTENCY_TIMEOUT_MS + 150));
        return shared.putIfAbsent<T>(...args);
      },
    };
    const replica = await buildTestApp({
      clock,
      env: { REDIS_KEY_PREFIX: prefix, SHUTDOWN_TIMEOUT_MS: '200', IDEMPOTENCY_TTL_MS: String(TTL_MS), DECISION_VALID_MS: '60000' },
      stores: { idempotency: slowFirst, auditLog, exposure },
    });
    opened.push({ replica, client });
    await publishHeatmap(replica);
    const body = buildRequest({ clientOrderId: 'late-1', quantity: 0.1 });
    const answersGiven = await Promise.all(Array.from({ length: 4 }, () => check(replica.app, body)));
    expect(answersGiven.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(answersGiven.map((r) => r.json().decisionId)).size).toBe(1);
    // A later retry, once the late write has landed, still gets that decision.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await check(replica.app, body)).json().decisionId).toBe(answersGiven[0]!.json().decisionId);
  });
});
