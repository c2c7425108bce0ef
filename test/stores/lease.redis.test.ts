import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisLeases } from '../../src/stores/lease.redis.js';
import { createMemoryLeases } from '../../src/stores/lease.memory.js';
import { createRedisHeatmapStore } from '../../src/stores/heatmap-store.redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { deletePrefix, randomPrefix, rawRedis } from '../helpers/redis.js';
import { buildSnapshot, CONTRACT_HISTORY } from './heatmap-store.contract.js';

let redis: Redis;
let prefix: string;
beforeAll(() => {
  redis = rawRedis();
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

function buildLeases(instanceId: string, overrides: { ttlMs?: number } = {}) {
  return createRedisLeases({ redis, keys: redisKeys(prefix), instanceId, ttlMs: overrides.ttlMs ?? 10_000 });
}

/** Expires a lease now, as if its holder had died ttl ago (no sleeping for the TTL). */
async function expireLease(symbol: string): Promise<void> {
  await redis.del(redisKeys(prefix).pollLease(symbol));
}

describe('Redis poll leases', () => {
  it('when two holders race for a symbol, then exactly one gets it and both see who', async () => {
    prefix = randomPrefix('lease');
    const a = buildLeases('a');
    const b = buildLeases('b');
    const [ta, tb] = await Promise.all([a.acquire('BTCUSDT'), b.acquire('BTCUSDT')]);
    expect([ta, tb].filter((t) => t !== null)).toEqual([1]);
    const winner = ta !== null ? 'a' : 'b';
    expect(await a.holder('BTCUSDT')).toBe(winner);
    expect(await b.holder('BTCUSDT')).toBe(winner);
  });

  it('when the holder renews, then it keeps the lease; a non-holder cannot renew', async () => {
    prefix = randomPrefix('lease');
    const a = buildLeases('a');
    const b = buildLeases('b');
    await a.acquire('BTCUSDT');
    expect(await a.renew('BTCUSDT')).toBe(true);
    expect(await b.renew('BTCUSDT')).toBe(false);
    expect(await redis.pttl(redisKeys(prefix).pollLease('BTCUSDT'))).toBeGreaterThan(5_000);
  });

  it('when the lease is set with a ttl, then Redis expires it and another holder takes over with a larger token', async () => {
    prefix = randomPrefix('lease');
    const a = buildLeases('a', { ttlMs: 1_000 });
    const b = buildLeases('b', { ttlMs: 1_000 });
    expect(await a.acquire('BTCUSDT')).toBe(1);
    const pttl = await redis.pttl(redisKeys(prefix).pollLease('BTCUSDT'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1_000);
    await expireLease('BTCUSDT');
    expect(await b.acquire('BTCUSDT')).toBe(2);
    expect(await a.renew('BTCUSDT')).toBe(false);
    expect(await a.holder('BTCUSDT')).toBe('b');
  });

  it('when a holder releases, then the lease is free at once; releasing a lease it lost does not free the new holder', async () => {
    prefix = randomPrefix('lease');
    const a = buildLeases('a');
    const b = buildLeases('b');
    await a.acquire('BTCUSDT');
    await a.release('BTCUSDT');
    expect(await a.holder('BTCUSDT')).toBeNull();
    expect(await b.acquire('BTCUSDT')).toBe(2);
    await a.release('BTCUSDT');
    expect(await b.holder('BTCUSDT')).toBe('b');
  });

  it('when two processes share an instance id, then they still do not share a lease', async () => {
    prefix = randomPrefix('lease');
    const a1 = buildLeases('same');
    const a2 = buildLeases('same');
    await a1.acquire('BTCUSDT');
    expect(await a2.acquire('BTCUSDT')).toBeNull();
    expect(await a2.renew('BTCUSDT')).toBe(false);
  });

  it('when a stale leader writes after a new leader took over, then its write is fenced off', async () => {
    prefix = randomPrefix('lease');
    const store = createRedisHeatmapStore({ redis, keys: redisKeys(prefix), history: CONTRACT_HISTORY });
    try {
      const old = buildLeases('old');
      const neu = buildLeases('new');
      const oldToken = (await old.acquire('BTCUSDT'))!;
      expect((await store.put(buildSnapshot({ asOf: 1_000 }), { fencingToken: oldToken })).accepted).toBe(true);
      await expireLease('BTCUSDT'); // the old leader stalled past its ttl
      const newToken = (await neu.acquire('BTCUSDT'))!;
      expect(newToken).toBeGreaterThan(oldToken);
      expect((await store.put(buildSnapshot({ asOf: 2_000 }), { fencingToken: newToken })).accepted).toBe(true);
      const late = await store.put(buildSnapshot({ asOf: 1_500 }), { fencingToken: oldToken });
      expect(late.accepted).toBe(false);
      expect((await store.getLatest('BTCUSDT'))?.asOf).toBe(2_000);
    } finally {
      await store.close();
    }
  });

  it('when the holder asks again while its lease is still held, then it gets the same token back and the TTL is extended', async () => {
    prefix = randomPrefix('lease');
    const a = buildLeases('a');
    const b = buildLeases('b');
    expect(await a.acquire('BTCUSDT')).toBe(1);
    await redis.pexpire(redisKeys(prefix).pollLease('BTCUSDT'), 500);
    expect(await a.acquire('BTCUSDT')).toBe(1);
    expect(await redis.pttl(redisKeys(prefix).pollLease('BTCUSDT'))).toBeGreaterThan(5_000);
    expect(await b.acquire('BTCUSDT')).toBeNull();
    expect(await a.renew('BTCUSDT')).toBe(true);
  });

  it('when a renewal cannot reach Redis, then it rejects (not "lost"), and once back the holder resumes its still-held lease', async () => {
    prefix = randomPrefix('lease');
    const client = rawRedis();
    try {
      const a = createRedisLeases({ redis: client, keys: redisKeys(prefix), instanceId: 'a', ttlMs: 10_000 });
      expect(await a.acquire('BTCUSDT')).toBe(1);
      client.disconnect();
      await expect(a.renew('BTCUSDT')).rejects.toThrow();
      await client.connect();
      expect(await a.acquire('BTCUSDT')).toBe(1);
      expect(await a.renew('BTCUSDT')).toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it('when our lease expired and another holder took it, then we do not resume it, cannot renew it, and our old token is fenced off', async () => {
    prefix = randomPrefix('lease');
    const keys = redisKeys(prefix);
    const a = buildLeases('a');
    const b = buildLeases('b');
    const store = createRedisHeatmapStore({ redis, keys, history: CONTRACT_HISTORY });
    try {
      expect(await a.acquire('BTCUSDT')).toBe(1);
      await expireLease('BTCUSDT');
      expect(await b.acquire('BTCUSDT')).toBe(2);
      expect(await a.acquire('BTCUSDT')).toBeNull();
      expect(await a.renew('BTCUSDT')).toBe(false);
      expect((await store.put(buildSnapshot(), { fencingToken: 2 })).accepted).toBe(true);
      expect((await store.put(buildSnapshot(), { fencingToken: 1 })).accepted).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('keeps lease keys under the prefix', async () => {
    prefix = randomPrefix('lease');
    await buildLeases('a').acquire('ETHUSDT');
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual([`${prefix}poll:{ETHUSDT}:lease`, `${prefix}poll:{ETHUSDT}:token`]);
  });
});

describe('memory poll leases', () => {
  it('when alone in the process, then it always holds the lease, with a growing token per acquisition', async () => {
    prefix = randomPrefix('unused');
    const l = createMemoryLeases({ instanceId: 'solo', ttlMs: 1_000 });
    expect(await l.acquire('BTCUSDT')).toBe(1);
    expect(await l.renew('BTCUSDT')).toBe(true);
    expect(await l.holder('BTCUSDT')).toBe('solo');
    await l.release('BTCUSDT');
    expect(await l.renew('BTCUSDT')).toBe(false);
    expect(await l.acquire('BTCUSDT')).toBe(2);
  });
});
