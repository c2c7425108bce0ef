import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Fill, FillAnalysis } from '../../src/domain/posttrade/analyze.js';
import { createMemoryPosttradeStore, type PosttradeStore, type StoredFill } from '../../src/stores/posttrade-store.js';
import { createRedisPosttradeStore } from '../../src/stores/posttrade-store.redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { deletePrefix, randomPrefix, testRedisUrl } from '../helpers/redis.js';

const T = Date.UTC(2026, 10, 24, 11, 30);
const DAY = 86_400_000;

function storedFill(id: string, overrides: Partial<Fill> = {}, dueAt = T + 60_000): StoredFill {
  return {
    fill: { fillId: id, decisionId: null, accountId: 'acct', symbol: 'BTCUSDT', side: 'buy', quantity: 1, price: 100_000, ts: T, fee: null, reducesPosition: null, ...overrides },
    hash: `h-${id}`,
    dueAt,
    context: null,
  };
}

function analysis(id: string, ts: number): FillAnalysis {
  return { fillId: id, decisionId: null, decisionFound: false, accountId: 'acct', symbol: 'BTCUSDT', side: 'buy', ts, hourUtc: 11, notionalUsd: 1e5, realizedSlippageBps: 1, expectedSlippageBps: 1, inClusterZone: false, inBuffer: false, distanceToMajorBps: 10, exit: null };
}

function contract(name: string, make: (now: () => number) => Promise<PosttradeStore>) {
  describe(`post-trade store: ${name}`, () => {
    let now = T;
    let store: PosttradeStore;
    beforeAll(async () => {
      store = await make(() => now);
    });

    it('when a fill is added twice, then the second add returns the first and it is queued once', async () => {
      expect(await store.addFill(storedFill('a'))).toBeNull();
      const again = await store.addFill({ ...storedFill('a', { price: 1 }), hash: 'other' });
      expect(again?.hash).toBe('h-a');
      expect((await store.getFill('a'))?.fill.price).toBe(100_000);
      expect(await store.due(T + 60_000, 10)).toEqual(['a']);
    });

    it('when an analysis is not yet due, then it is not handed out; once due, oldest first', async () => {
      await store.addFill(storedFill('b', {}, T + 120_000));
      await store.addFill(storedFill('c', {}, T + 30_000));
      expect(await store.due(T + 29_999, 10)).toEqual([]);
      expect(await store.due(T + 200_000, 10)).toEqual(['c', 'a', 'b']);
      expect(await store.due(T + 200_000, 1)).toEqual(['c']);
    });

    it('when a result is saved (even twice), then the fill leaves the queue and the result is found by id and by time range', async () => {
      await store.saveAnalysis(analysis('c', T));
      await store.saveAnalysis(analysis('c', T));
      expect(await store.due(T + 200_000, 10)).toEqual(['a', 'b']);
      expect((await store.getAnalysis('c'))?.fillId).toBe('c');
      expect((await store.analyses(T - 1, T + 1, 10)).map((a) => a.fillId)).toEqual(['c']);
      expect(await store.analyses(T + 1, T + 2, 10)).toEqual([]);
    });

    it('when results are older than the retention, then saving a new one trims them from the range index', async () => {
      now = T + 40 * DAY;
      await store.saveAnalysis(analysis('late', now));
      expect((await store.analyses(0, now, 10)).map((a) => a.fillId)).toEqual(['late']);
    });
  });
}

contract('memory', async (now) => createMemoryPosttradeStore(30 * DAY, now));

const prefix = randomPrefix('posttrade');
let redis: Redis;
beforeAll(() => {
  redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});
contract('redis', async (now) => createRedisPosttradeStore(redis, redisKeys(prefix), { retentionMs: 30 * DAY, now }));
