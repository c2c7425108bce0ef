import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisHeatmapStore } from '../../src/stores/heatmap-store.redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { Redis as RedisClient } from 'ioredis';
import { deletePrefix, randomPrefix, rawRedis } from '../helpers/redis.js';
import { startPrivateRedis, waitUntil } from '../helpers/redis-server.js';
import { buildSnapshot, CONTRACT_HISTORY, heatmapStoreContract } from './heatmap-store.contract.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

heatmapStoreContract('redis', async () => {
  const prefix = randomPrefix('store');
  const store = createRedisHeatmapStore({ redis, keys: redisKeys(prefix), history: CONTRACT_HISTORY });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await deletePrefix(redis, prefix);
    },
  };
});

describe('Redis heatmap store specifics', () => {
  it('when two stores share a prefix, then a write through one is announced to the other', async () => {
    const prefix = randomPrefix('store');
    const keys = redisKeys(prefix);
    const a = createRedisHeatmapStore({ redis, keys, history: CONTRACT_HISTORY });
    const b = createRedisHeatmapStore({ redis, keys, history: CONTRACT_HISTORY });
    try {
      let heard!: (v: [string, number]) => void;
      const wait = new Promise<[string, number]>((r) => (heard = r));
      await b.subscribe((s, v) => heard([s, v]));
      await a.put(buildSnapshot());
      expect(await wait).toEqual(['BTCUSDT', 1]);
      expect((await b.getLatest('BTCUSDT'))?.version).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await deletePrefix(redis, prefix);
    }
  });

  it('when the connection is down, then ping and put fail at once instead of queueing', async () => {
    const prefix = randomPrefix('store');
    const down = rawRedis();
    const store = createRedisHeatmapStore({ redis: down, keys: redisKeys(prefix), history: CONTRACT_HISTORY });
    try {
      await down.ping();
      down.disconnect();
      await expect(store.ping()).rejects.toThrow();
      await expect(store.put(buildSnapshot())).rejects.toThrow();
    } finally {
      await store.close();
      down.disconnect();
      await deletePrefix(redis, prefix);
    }
  });

  it('when the stored latest has null bounds, a missing clusters array or is not JSON, then reads treat it as missing', async () => {
    const prefix = randomPrefix('store');
    const keys = redisKeys(prefix);
    const store = createRedisHeatmapStore({ redis, keys, history: CONTRACT_HISTORY });
    try {
      await store.put(buildSnapshot());
      const good = JSON.parse((await redis.get(keys.heatmapLatest('BTCUSDT')))!) as { heatmap: { clusters: { priceLow: number | null }[] } };
      const nullBound = structuredClone(good);
      nullBound.heatmap.clusters[0]!.priceLow = null; // what JSON makes of NaN
      const noClusters = structuredClone(good) as { heatmap: { clusters?: unknown } };
      delete noClusters.heatmap.clusters;
      for (const doc of [JSON.stringify(nullBound), JSON.stringify(noClusters), '{"version":1,']) {
        await redis.set(keys.heatmapLatest('BTCUSDT'), doc);
        await redis.del(keys.heatmapHistory('BTCUSDT'));
        expect(await store.getLatest('BTCUSDT')).toBeNull();
        expect(await store.getAt('BTCUSDT', Date.UTC(2030, 0, 1))).toBeNull();
      }
    } finally {
      await store.close();
      await deletePrefix(redis, prefix);
    }
  });

  it('when the latest is invalid but history holds a valid older map, then a past read answers from history', async () => {
    const prefix = randomPrefix('store');
    const keys = redisKeys(prefix);
    const store = createRedisHeatmapStore({ redis, keys, history: CONTRACT_HISTORY });
    try {
      const first = buildSnapshot();
      await store.put(first);
      await redis.set(keys.heatmapLatest('BTCUSDT'), '{"version":2,"symbol":"BTCUSDT","asOf":' + String(first.asOf + 1) + '}');
      expect(await store.getLatest('BTCUSDT')).toBeNull();
      expect((await store.getAt('BTCUSDT', first.asOf + 10))?.version).toBe(1);
    } finally {
      await store.close();
      await deletePrefix(redis, prefix);
    }
  });

  it('keeps every key under the prefix', async () => {
    const prefix = randomPrefix('store');
    const store = createRedisHeatmapStore({ redis, keys: redisKeys(prefix), history: CONTRACT_HISTORY });
    try {
      await store.put(buildSnapshot(), { fencingToken: 1 });
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.sort()).toEqual(
        [`${prefix}heatmap:{BTCUSDT}:fence`, `${prefix}heatmap:{BTCUSDT}:history`, `${prefix}heatmap:{BTCUSDT}:latest`, `${prefix}heatmap:{BTCUSDT}:version`].sort(),
      );
    } finally {
      await store.close();
      await deletePrefix(redis, prefix);
    }
  });

  it('when Redis restarts, then ping fails while it is down and the subscription hears writes again afterwards', async () => {
    const server = await startPrivateRedis();
    const client = new RedisClient(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => {});
    const store = createRedisHeatmapStore({ redis: client, keys: redisKeys('lg-restart:'), history: CONTRACT_HISTORY, commandTimeoutMs: 500 });
    try {
      const heard: number[] = [];
      await store.subscribe((_s, v) => heard.push(v));
      await store.put(buildSnapshot());
      await waitUntil(async () => heard.length === 1, 5_000, 'first announcement');
      await server.stop();
      await waitUntil(async () => store.ping().then(() => false, () => true), 5_000, 'ping failing');
      await server.start();
      // A fresh server has no data: the next write is version 1 again, heard through the resubscribed channel.
      await waitUntil(
        async () => {
          await store.put(buildSnapshot()).catch(() => undefined);
          return heard.length >= 2;
        },
        10_000,
        'announcement after the restart',
      );
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
      client.disconnect();
      await server.stop();
    }
  });
});
