import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, startRedisSentinel, type RedisClusterHandle, type RedisSentinelHandle } from '../helpers/redis-topologies.js';
import { waitUntil } from '../helpers/redis-server.js';

describe('the local Redis Cluster the HA tests run on', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = new Cluster(cluster.nodes);
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('when keys hash to slots on different nodes, then each is served by its own primary', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => `topology-test:${k}`);
    for (const k of keys) await client.set(k, k);
    expect(await Promise.all(keys.map((k) => client.get(k)))).toEqual(keys);
    const owners = new Set(await Promise.all(keys.map(async (k) => (await client.call('CLUSTER', 'KEYSLOT', k)) as number)));
    expect(owners.size).toBeGreaterThan(1);
    expect(client.nodes('master')).toHaveLength(3);
  });

  it('when a script touches keys of two slots, then the cluster refuses it (so our scripts must share a hash tag)', async () => {
    await expect(client.eval("return redis.call('get', KEYS[1])", 2, 'topology-test:{x}', 'topology-test:{y}')).rejects.toThrow(/CROSSSLOT/);
  });
});

describe('the local Sentinel setup the HA tests run on', () => {
  let sentinel: RedisSentinelHandle;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
  }, 60_000);
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('when the primary is killed, then the sentinels promote the replica and a sentinel-aware client writes to it', async () => {
    const client = new Redis({ sentinels: sentinel.sentinels, name: sentinel.name, maxRetriesPerRequest: 3 });
    client.on('error', () => {});
    try {
      await client.set('topology-test:before', '1');
      // Replication is asynchronous: without WAIT a write acknowledged just before the
      // primary dies can be lost in the failover.
      expect(await client.call('WAIT', 1, 2000)).toBe(1);
      expect(await sentinel.currentPrimaryPort()).toBe(sentinel.primary.port);
      await sentinel.primary.kill();
      await waitUntil(async () => (await sentinel.currentPrimaryPort()) === sentinel.replica.port, 30_000, 'sentinel failover');
      await waitUntil(async () => (await client.set('topology-test:after', '2').then(() => true, () => false)), 15_000, 'a write after failover');
      expect(await client.get('topology-test:before')).toBe('1');
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
