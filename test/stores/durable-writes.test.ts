import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { primaryWrites, ReplicaAckError, replicaWrites } from '../../src/stores/durable-writes.js';
import { createRedisExposureStore } from '../../src/stores/exposure-store.redis.js';
import { createRedisIdempotencyStore } from '../../src/stores/idempotency-store.redis.js';
import type { StoredFill } from '../../src/stores/posttrade-store.js';
import { createRedisPosttradeStore } from '../../src/stores/posttrade-store.redis.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { createRedisTradingStateStore } from '../../src/stores/trading-state-store.redis.js';
import { buildFill, NOW } from '../domain/exposure/factories.js';
import { startPrivateRedis, waitUntil } from '../helpers/redis-server.js';
import { randomPrefix } from '../helpers/redis.js';

/*
 * AUDIT_DURABILITY=replica for the writes besides the audit: exposure, trading state and
 * idempotency write on one dedicated connection and WAIT for a replica before resolving.
 * A private primary and replica (Debian's redis-server); a second primary has none.
 */

type Private = Awaited<ReturnType<typeof startPrivateRedis>>;
let primary: Private;
let replica: Private;
let lonely: Private;
let client: Redis;
let lonelyClient: Redis;
let replicaClient: Redis;

function buildStoredFill(fillId: string): StoredFill {
  return {
    fill: { fillId, decisionId: null, accountId: 'acct-1', symbol: 'BTCUSDT', side: 'buy', quantity: 1, price: 100_000, ts: NOW, fee: null, reducesPosition: null },
    hash: `h-${fillId}`,
    dueAt: NOW + 60_000,
    context: null,
  };
}

const waitCalls = async (r: Redis): Promise<number> => Number(/cmdstat_wait:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);

beforeAll(async () => {
  primary = await startPrivateRedis();
  replica = await startPrivateRedis({ replicaOf: primary.port });
  lonely = await startPrivateRedis();
  client = new Redis(primary.url, { maxRetriesPerRequest: 1 });
  replicaClient = new Redis(replica.url, { maxRetriesPerRequest: 1 });
  lonelyClient = new Redis(lonely.url, { maxRetriesPerRequest: 1 });
  await waitUntil(async () => (await replicaClient.info('replication')).includes('master_link_status:up'), 15_000, 'replica in sync');
}, 30_000);
afterAll(async () => {
  for (const c of [client, replicaClient, lonelyClient]) c?.disconnect();
  for (const p of [primary, replica, lonely]) await p?.stop();
});

describe('durable writes', () => {
  it('when a replica is attached, then a write resolves once the replica has it', async () => {
    const writes = replicaWrites(client, { replicas: 1, timeoutMs: 2_000 });
    try {
      await writes.write((c) => c.set('k-durable', 'v'));
      // WAIT returned: the replica has applied it (reading it there is not a race).
      expect(await replicaClient.get('k-durable')).toBe('v');
    } finally {
      await writes.close();
    }
  });

  it('when many writes arrive at once, then they share WAITs (one in flight, one queued) instead of one each', async () => {
    const writes = replicaWrites(client, { replicas: 1, timeoutMs: 2_000 });
    try {
      const before = await waitCalls(client);
      await Promise.all(Array.from({ length: 50 }, (_, i) => writes.write((c) => c.set(`k-group-${i}`, String(i)))));
      const used = (await waitCalls(client)) - before;
      expect(used).toBeGreaterThan(0);
      expect(used).toBeLessThan(50);
      expect(await replicaClient.get('k-group-49')).toBe('49');
    } finally {
      await writes.close();
    }
  });

  it('when no replica is attached, then the write is refused as not durable (ReplicaAckError), though the primary has it', async () => {
    const writes = replicaWrites(lonelyClient, { replicas: 1, timeoutMs: 50 });
    try {
      await expect(writes.write((c) => c.set('k-lonely', 'v'))).rejects.toBeInstanceOf(ReplicaAckError);
      expect(await lonelyClient.get('k-lonely')).toBe('v');
    } finally {
      await writes.close();
    }
  });

  it('when the primary mode is used, then a write resolves on the acknowledgement alone, with no WAIT', async () => {
    const before = await waitCalls(lonelyClient);
    expect(await primaryWrites(lonelyClient).write((c) => c.set('k-primary', 'v'))).toBe('OK');
    expect((await waitCalls(lonelyClient)) - before).toBe(0);
  });

  it('when there is no replica, then a fill, a trading-state change and an idempotency record are each refused as not durable', async () => {
    const writes = replicaWrites(lonelyClient, { replicas: 1, timeoutMs: 50 });
    const keys = redisKeys(randomPrefix('durable'));
    try {
      const exposure = createRedisExposureStore(lonelyClient, keys, { fillRetentionMs: 86_400_000, writes });
      await expect(exposure.applyFill('acct-1', buildFill(), NOW)).rejects.toBeInstanceOf(ReplicaAckError);
      const tradingState = createRedisTradingStateStore(lonelyClient, { hashKey: keys.tradingState(), channel: keys.tradingStateChannel(), appliedKey: keys.tradingStateApplied(), writes });
      await expect(tradingState.set(null, { state: 'HALTED', reason: 'test', updatedBy: 'test', updatedAt: new Date().toISOString() })).rejects.toBeInstanceOf(ReplicaAckError);
      const idempotency = createRedisIdempotencyStore(lonelyClient, writes);
      await expect(idempotency.putIfAbsent(keys.idempotency('o-1'), { hash: 'h', response: {} }, 10_000)).rejects.toBeInstanceOf(ReplicaAckError);
    } finally {
      await writes.close();
    }
  });

  it("when there is no replica, then the post-trade record of a fill is refused as not durable (the intake then journals the fill)", async () => {
    const writes = replicaWrites(lonelyClient, { replicas: 1, timeoutMs: 50 });
    const keys = redisKeys(randomPrefix('durable'));
    try {
      const posttrade = createRedisPosttradeStore(lonelyClient, keys, { retentionMs: 86_400_000, now: () => NOW, writes });
      await expect(posttrade.addFill(buildStoredFill('pt-lonely'))).rejects.toBeInstanceOf(ReplicaAckError);
    } finally {
      await writes.close();
    }
  });

  it('when a replica is attached, then the post-trade record of a fill and its place in the analysis queue are on the replica once addFill resolves', async () => {
    const writes = replicaWrites(client, { replicas: 1, timeoutMs: 2_000 });
    const keys = redisKeys(randomPrefix('durable'));
    try {
      const posttrade = createRedisPosttradeStore(client, keys, { retentionMs: 86_400_000, now: () => NOW, writes });
      expect(await posttrade.addFill(buildStoredFill('pt-replicated'))).toBeNull();
      expect(await replicaClient.exists(keys.posttradeFill('pt-replicated'))).toBe(1);
      expect(await replicaClient.zscore(keys.posttradePending(), 'pt-replicated')).not.toBeNull();
    } finally {
      await writes.close();
    }
  });

  it("when a replica is attached, then the exposure store's fill is on the replica once applyFill resolves", async () => {
    const writes = replicaWrites(client, { replicas: 1, timeoutMs: 2_000 });
    const keys = redisKeys(randomPrefix('durable'));
    try {
      const exposure = createRedisExposureStore(client, keys, { fillRetentionMs: 86_400_000, writes });
      const fill = buildFill();
      expect(await exposure.applyFill('acct-1', fill, NOW)).toMatchObject({ status: 'applied' });
      expect(await replicaClient.hexists(keys.exposureFills('acct-1'), fill.fillId)).toBe(1);
    } finally {
      await writes.close();
    }
  });
});
