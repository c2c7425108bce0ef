import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { exposureUse } from '../../src/domain/exposure/limits.js';
import { createRedisExposureStore } from '../../src/stores/exposure-store.redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { deletePrefix, randomPrefix, rawRedis, testRedisUrl } from '../helpers/redis.js';
import { NOW, buildContext, buildLimits, buildOrder } from '../domain/exposure/factories.js';
import { exposureStoreContract } from './exposure-store.contract.js';

const OPTS = { fillRetentionMs: 7 * 86_400_000 };
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

exposureStoreContract('redis', async () => {
  const prefix = randomPrefix('exposure');
  return { store: createRedisExposureStore(redis, redisKeys(prefix), OPTS), cleanup: () => deletePrefix(redis, prefix) };
});

/** Counts the commands a client sends (each one a round trip: the store pipelines nothing). */
function counting(client: Redis): { client: Redis; count: () => number } {
  let n = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    n += 1;
    return send(...args);
  }) as Redis['sendCommand'];
  return { client, count: () => n };
}

describe('Redis exposure store on two replicas', () => {
  const prefix = randomPrefix('exposure-2');
  const keys = redisKeys(prefix);
  let a: Redis;
  let b: Redis;
  beforeAll(() => {
    a = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    b = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await Promise.all([a.quit(), b.quit()]);
  });

  it('when both fire orders at the same moment, then approved worst-case exposure never exceeds a limit', async () => {
    const storeA = createRedisExposureStore(a, keys, OPTS);
    const storeB = createRedisExposureStore(b, keys, OPTS);
    const limits = buildLimits({ maxPositionNotionalUsd: 3_000_000, maxGrossNotionalUsd: 4_000_000, maxNetNotionalUsd: 10_000_000 });
    const ctx = buildContext({ limits });
    const orders = Array.from({ length: 60 }, (_, i) =>
      buildOrder({ decisionId: `c-${i}`, symbol: i % 3 === 0 ? 'ETHUSDT' : 'BTCUSDT', price: i % 3 === 0 ? 4_000 : 100_000, quantity: i % 3 === 0 ? 60 : 2.7, side: i % 5 === 0 ? 'sell' : 'buy' }),
    );
    const outs = await Promise.all(orders.map((o, i) => (i % 2 === 0 ? storeA : storeB).reserve('shared', [o], ctx)));
    const approved = outs.flat().filter((o) => o.quantity > 0);
    expect(approved.length).toBeGreaterThan(0);
    expect(approved.length).toBeLessThan(orders.length);
    const state = (await storeA.get('shared'))!;
    expect(state.reservations).toHaveLength(approved.length);
    const use = exposureUse(state, ctx.marks);
    expect(use.grossUsd).toBeLessThanOrEqual(limits.maxGrossNotionalUsd * (1 + 1e-9));
    expect(use.netUsd).toBeLessThanOrEqual(limits.maxNetNotionalUsd * (1 + 1e-9));
    for (const v of Object.values(use.positionUsd)) expect(v).toBeLessThanOrEqual(limits.maxPositionNotionalUsd * (1 + 1e-9));
  });

  it('when both fire orders at the same moment, then the approved order count and notional never exceed the trading limits', async () => {
    const storeA = createRedisExposureStore(a, keys, OPTS);
    const storeB = createRedisExposureStore(b, keys, OPTS);
    for (const [account, limits] of [
      ['rate-count', buildLimits({ maxApprovedOrders: 7, maxApprovedNotionalUsd: null })],
      ['rate-usd', buildLimits({ maxApprovedOrders: 1_000, maxApprovedNotionalUsd: 1_050_000 })],
    ] as const) {
      const ctx = buildContext({ limits });
      const orders = Array.from({ length: 40 }, (_, i) => buildOrder({ decisionId: `${account}-${i}`, quantity: 1 }));
      const outs = (await Promise.all(orders.map((o, i) => (i % 2 === 0 ? storeA : storeB).reserve(account, [o], ctx)))).flat();
      const approved = outs.filter((o) => o.quantity > 0);
      const refused = outs.filter((o) => o.quantity < 1 - 1e-12);
      if (limits.maxApprovedNotionalUsd === null) expect(approved).toHaveLength(7);
      else expect(approved.reduce((s, o) => s + o.quantity * 100_000, 0)).toBeCloseTo(1_050_000, 3);
      expect(refused.length).toBeGreaterThan(0);
      for (const o of refused) expect(o.retryAfterMs).toBeGreaterThan(0);
      expect((await storeB.get(account))!.reservations).toHaveLength(approved.length);
    }
  });

  it('when two reduce-only orders race for one position, then together they never exceed (or flip) it', async () => {
    const storeA = createRedisExposureStore(a, keys, OPTS);
    const storeB = createRedisExposureStore(b, keys, OPTS);
    for (let round = 0; round < 20; round++) {
      const id = `ro-${round}`;
      await storeA.reconcile(id, NOW, [{ symbol: 'BTCUSDT', quantity: 3, entryPrice: 100_000 }], NOW);
      const [x, y] = await Promise.all([
        storeA.reserve(id, [buildOrder({ side: 'sell', reduceOnly: true, quantity: 2 })], buildContext()),
        storeB.reserve(id, [buildOrder({ side: 'sell', reduceOnly: true, quantity: 2 })], buildContext()),
      ]);
      const total = (x?.[0]?.quantity ?? 0) + (y?.[0]?.quantity ?? 0);
      expect(total).toBeCloseTo(3, 9);
      expect([x?.[0]?.quantity, y?.[0]?.quantity].sort()).toEqual([1, 2]);
    }
  });

  it('a decision takes one round trip, and a batch of orders too', async () => {
    const c = counting(new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 }));
    try {
      await c.client.ping();
      const store = createRedisExposureStore(c.client, keys, OPTS);
      await store.reserve('rt', [buildOrder()], buildContext()); // loads the script once (NOSCRIPT, then EVAL)
      const before = c.count();
      await store.reserve('rt', [buildOrder({ quantity: 0.1 })], buildContext());
      expect(c.count() - before).toBe(1);
      const batchStart = c.count();
      const out = await store.reserve('rt', Array.from({ length: 20 }, () => buildOrder({ quantity: 0.1 })), buildContext());
      expect(out).toHaveLength(20);
      expect(c.count() - batchStart).toBe(1);
    } finally {
      await c.client.quit();
    }
  });
});

describe('Redis exposure store: a reconciliation is all or nothing', () => {
  const prefix = randomPrefix('exposure-reconcile');
  const keys = redisKeys(prefix);
  afterAll(async () => {
    await deletePrefix(redis, prefix);
  });

  it('when one of its writes fails, then it rejects and the positions in force are the ones before it (nothing partial: the route answers 503 with nothing applied)', async () => {
    const store = createRedisExposureStore(redis, keys, OPTS);
    await store.reconcile('acct-r', NOW - 60_000, [{ symbol: 'BTCUSDT', quantity: 1, entryPrice: 100_000 }], NOW);
    const before = await store.get('acct-r');

    // The account index write refused (as a Redis that fails between two commands).
    const failingIndex = new Proxy(redis, {
      get: (target, prop, receiver) => (prop === 'sadd' ? () => Promise.reject(new Error('connection lost')) : Reflect.get(target, prop, receiver)),
    });
    const failing = createRedisExposureStore(redis, keys, { ...OPTS, writes: { write: (op) => op(failingIndex) } });
    await expect(failing.reconcile('acct-r', NOW, [{ symbol: 'BTCUSDT', quantity: 3, entryPrice: 90_000 }], NOW)).rejects.toThrow('connection lost');
    expect(await store.get('acct-r')).toEqual(before);
  });
});
