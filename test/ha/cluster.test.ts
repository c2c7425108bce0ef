import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cluster } from 'ioredis';
import { connectRedis } from '../../src/infra.js';
import { createLogger } from '../../src/logger.js';
import { createRedisExposureStore } from '../../src/stores/exposure-store.redis.js';
import { createRedisHeatmapStore } from '../../src/stores/heatmap-store.redis.js';
import { createRedisIdempotencyStore } from '../../src/stores/idempotency-store.redis.js';
import { createRedisLeases } from '../../src/stores/lease.redis.js';
import { createRedisPosttradeStore } from '../../src/stores/posttrade-store.redis.js';
import type { RedisClient } from '../../src/stores/redis-client.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { createRedisTradingStateStore } from '../../src/stores/trading-state-store.redis.js';
import { redisStatusBoard } from '../../src/modules/heatmaps/status-board.js';
import { bearer, buildTestApp, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { auditWritten } from '../helpers/observe.js';
import { randomPrefix } from '../helpers/redis.js';
import { startRedisCluster, type RedisClusterHandle } from '../helpers/redis-topologies.js';
import { buildRequest, check, NOW, publishHeatmap, putTradingState } from '../modules/pretrade/helpers.js';
import { exposureStoreContract } from '../stores/exposure-store.contract.js';
import { CONTRACT_HISTORY, heatmapStoreContract } from '../stores/heatmap-store.contract.js';

/*
 * The service's stores on a local 3-node Redis Cluster (Debian's redis-server): every
 * multi-key script and MULTI must keep to one hash slot, or the cluster answers CROSSSLOT.
 * Keys are under random prefixes; the cluster is thrown away after the suite.
 */

let cluster: RedisClusterHandle;
let redis: RedisClient;
const logger = createLogger('silent');
const noCleanup = async () => {};

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  redis = await connectRedis({ nodes: cluster.nodes }, logger);
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

heatmapStoreContract('redis cluster', async () => {
  const store = createRedisHeatmapStore({ redis, keys: redisKeys(randomPrefix('hm-cluster')), history: CONTRACT_HISTORY });
  return { store, cleanup: () => store.close() };
});

exposureStoreContract('redis cluster', async () => ({
  store: createRedisExposureStore(redis, redisKeys(randomPrefix('exp-cluster')), { fillRetentionMs: 7 * 86_400_000 }),
  cleanup: noCleanup,
}));

describe('the other stores on a Redis Cluster', () => {
  it('when the connection is made from seed nodes, then the client is a Cluster that found every primary', () => {
    expect(redis.isCluster).toBe(true);
    expect(redis instanceof Cluster && redis.nodes('master')).toHaveLength(3);
  });

  it('when two replicas race for a poll lease, then one gets it and renews it, and the other sees who holds it', async () => {
    const keys = redisKeys(randomPrefix('lease-cluster'));
    const a = createRedisLeases({ redis, keys, instanceId: 'a', ttlMs: 10_000 });
    const b = createRedisLeases({ redis, keys, instanceId: 'b', ttlMs: 10_000 });
    const [ta, tb] = await Promise.all([a.acquire('BTCUSDT'), b.acquire('BTCUSDT')]);
    expect([ta, tb].filter((t) => t !== null)).toEqual([1]);
    const [winner, loser] = ta !== null ? [a, b] : [b, a];
    expect(await winner.renew('BTCUSDT')).toBe(true);
    expect(await loser.renew('BTCUSDT')).toBe(false);
    expect(await loser.holder('BTCUSDT')).toBe(ta !== null ? 'a' : 'b');
  });

  it('when symbols live on different nodes, then the status board reads them all in one call', async () => {
    const keys = redisKeys(randomPrefix('status-cluster'));
    const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT'];
    const slots = new Set(await Promise.all(symbols.map(async (s) => Number(await redis.call('CLUSTER', 'KEYSLOT', keys.symbolStatus(s))))));
    expect(slots.size).toBeGreaterThan(1);
    const board = redisStatusBoard(redis, keys, 60_000);
    for (const s of symbols) board.post(s, { role: 'leader', leader: 'a', fencingToken: 1, lastPollAt: null, lastSuccessAt: null, lastError: null, consecutiveFailures: 0, venues: [] });
    await vi.waitFor(async () => expect((await board.read(symbols)).size).toBe(symbols.length), { timeout: 5_000, interval: 20 });
  });

  it('when a clientOrderId is stored twice, then the second writer gets the first entry', async () => {
    const store = createRedisIdempotencyStore(redis);
    const key = redisKeys(randomPrefix('idem-cluster')).idempotency('pretrader/acct/o-1');
    expect(await store.putIfAbsent(key, { hash: 'h1', response: 1 }, 60_000)).toBeNull();
    expect(await store.putIfAbsent(key, { hash: 'h2', response: 2 }, 60_000)).toEqual({ hash: 'h1', response: 1 });
  });

  it('when a fill is recorded, analysed and listed, then the post-trade scripts run (one {pt} slot)', async () => {
    const now = Date.UTC(2026, 10, 24, 11, 30);
    const store = createRedisPosttradeStore(redis, redisKeys(randomPrefix('pt-cluster')), { retentionMs: 86_400_000, now: () => now });
    const fill = { fillId: 'f-1', decisionId: null, accountId: 'acct', symbol: 'BTCUSDT', side: 'buy' as const, quantity: 1, price: 100_000, ts: now, fee: null, reducesPosition: null };
    expect(await store.addFill({ fill, hash: 'h', dueAt: now + 60_000, context: null })).toBeNull();
    expect(await store.due(now + 60_000, 10)).toEqual(['f-1']);
    const analysis = { fillId: 'f-1', decisionId: null, decisionFound: false, accountId: 'acct', symbol: 'BTCUSDT', side: 'buy' as const, ts: now, hourUtc: 11, notionalUsd: 1e5, realizedSlippageBps: 1, expectedSlippageBps: 1, inClusterZone: false, inBuffer: false, distanceToMajorBps: 10, exit: null };
    await store.saveAnalysis(analysis);
    expect(await store.due(now + 60_000, 10)).toEqual([]);
    expect(await store.analyses(now - 1, now + 1, 10)).toEqual([analysis]);
  });

  it('when the trading state is set on one client, then it is stored and a subscriber on another connection hears of it', async () => {
    const keys = redisKeys(randomPrefix('ts-cluster'));
    const opts = { hashKey: keys.tradingState(), channel: keys.tradingStateChannel(), appliedKey: keys.tradingStateApplied() };
    const writer = createRedisTradingStateStore(redis, opts);
    const reader = createRedisTradingStateStore(redis, opts);
    let heard = 0;
    const unsubscribe = await reader.subscribe(() => heard++);
    try {
      const entry = { state: 'HALTED' as const, reason: 'test', updatedBy: 'admin', updatedAt: new Date(NOW).toISOString() };
      await writer.set(null, entry);
      expect((await reader.load()).global).toMatchObject({ state: 'HALTED', reason: 'test' });
      await vi.waitFor(() => expect(heard).toBe(1), { timeout: 5_000, interval: 20 });
    } finally {
      await unsubscribe();
    }
  });
});

describe('the app on a Redis Cluster', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // Two replicas of the gate on one prefix; the periodic trading-state refresh is long,
    // so what reaches the second one within the wait came by pub/sub.
    const prefix = randomPrefix('app-cluster');
    const env = { REDIS_KEY_PREFIX: prefix, TRADING_STATE_REFRESH_MS: '60000' };
    a = await buildTestApp({ store: 'redis', redis, env, clock: () => NOW });
    b = await buildTestApp({ store: 'redis', redis, env, clock: () => NOW });
    await publishHeatmap(a);
    await publishHeatmap(b);
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('when an order is checked, then it is answered, replayed by its clientOrderId, audited and found by its decisionId', async () => {
    const first = await check(a.app, buildRequest({ clientOrderId: 'c-1', accountId: 'acct' }));
    expect(first.statusCode).toBe(200);
    const replay = await check(b.app, buildRequest({ clientOrderId: 'c-1', accountId: 'acct' }));
    expect(replay.headers['idempotent-replay']).toBe('true');
    expect(replay.json().decisionId).toBe(first.json().decisionId);
    await auditWritten(a.app);
    const found = await b.app.inject({ method: 'GET', url: `/decisions/${first.json().decisionId}`, headers: bearer(TEST_KEYS.read) });
    expect(found.statusCode).toBe(200);
    expect(found.json().decision).toEqual(first.json());
  });

  it('when one replica halts trading, then the other rejects opening orders (announced by pub/sub on the cluster)', async () => {
    const codes = async () => ((await check(b.app, buildRequest())).json() as { reasons: { code: string }[] }).reasons.map((r) => r.code);
    expect(await codes()).not.toContain('TRADING_HALTED');
    await putTradingState(a.app, { state: 'HALTED', reason: 'cluster test' }).then((r) => expect(r.statusCode).toBe(200));
    await vi.waitFor(async () => expect(await codes()).toContain('TRADING_HALTED'), { timeout: 5_000, interval: 50 });
  });
});
