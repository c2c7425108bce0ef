import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, redisNode, waitUntil, type RedisNode } from './redis-server.js';

const run = promisify(execFile);

async function info(url: string, section: string): Promise<string> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  c.on('error', () => {});
  try {
    await c.connect();
    return await c.info(section);
  } catch {
    return '';
  } finally {
    c.disconnect();
  }
}

async function sentinelKnowsReplica(port: number, name: string): Promise<boolean> {
  const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  c.on('error', () => {});
  try {
    await c.connect();
    const replicas = (await c.call('SENTINEL', 'replicas', name)) as unknown[];
    return replicas.length > 0;
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

const baseArgs = (port: number, dir: string) => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];

export interface RedisClusterHandle {
  /** Seed nodes for `new Cluster(...)`. */
  readonly nodes: { host: string; port: number }[];
  readonly processes: RedisNode[];
  stop(): Promise<void>;
}

/**
 * A local Redis Cluster of `size` primaries (no replicas) from Debian's redis-server,
 * slots spread by `redis-cli --cluster create`. Resolves once the cluster reports ok.
 */
export async function startRedisCluster(size = 3): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'liq-gate-cluster-'));
  const processes: RedisNode[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const node = redisNode(port, [...baseArgs(port, nodeDir), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']);
      processes.push(node);
      await node.start();
    }
    await run('redis-cli', ['--cluster', 'create', ...processes.map((p) => `127.0.0.1:${p.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    // Every node, not just the first, must report the slots assigned: a client that asks a
    // node still joining for the slot map can wait for ever on its first refresh.
    const stateOk = async (url: string) => {
      const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      c.on('error', () => {});
      try {
        await c.connect();
        const info = String(await c.call('CLUSTER', 'INFO'));
        return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${size}`);
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    };
    await waitUntil(async () => (await Promise.all(processes.map((p) => stateOk(p.url)))).every(Boolean), 30_000, 'cluster_state:ok on every node');
  } catch (err) {
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes: processes.map((p) => ({ host: '127.0.0.1', port: p.port })),
    processes,
    async stop() {
      await Promise.all(processes.map((p) => p.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One redis-server in cluster mode that was never given slots: it answers PING but its
 * slot map is empty, which is what a node still joining looks like to a client.
 */
export async function startSlotlessClusterNode(): Promise<{ node: { host: string; port: number }; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'liq-gate-slotless-'));
  const port = await freePort();
  const node = redisNode(port, [...baseArgs(port, dir), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']);
  try {
    await node.start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    node: { host: '127.0.0.1', port },
    async stop() {
      await node.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisSentinelHandle {
  /** The name sentinels monitor the primary under. */
  readonly name: string;
  readonly sentinels: { host: string; port: number }[];
  readonly primary: RedisNode;
  readonly replica: RedisNode;
  /** The port of the node the sentinels currently name as primary. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A primary, one replica and three sentinels (quorum 2) from Debian's redis-server in
 * sentinel mode, with short timeouts so a failover completes in a few seconds.
 */
export async function startRedisSentinel(name = 'liqgate'): Promise<RedisSentinelHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'liq-gate-sentinel-'));
  const started: RedisNode[] = [];
  try {
    const primaryPort = await freePort();
    const primary = redisNode(primaryPort, baseArgs(primaryPort, dir));
    started.push(primary);
    await primary.start();
    const replicaPort = await freePort();
    const replica = redisNode(replicaPort, [...baseArgs(replicaPort, dir), '--replicaof', '127.0.0.1', String(primaryPort)]);
    started.push(replica);
    await replica.start();
    await waitUntil(async () => (await info(replica.url, 'replication')).includes('master_link_status:up'), 15_000, 'replica in sync');
    const sentinels: { host: string; port: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const node = redisNode(port, [conf, '--sentinel']);
      started.push(node);
      await node.start();
      sentinels.push({ host: '127.0.0.1', port });
    }
    // Sentinels learn the replica from the primary's INFO (every 10 s at first): until they
    // have, a failover has no candidate.
    await waitUntil(
      async () => (await Promise.all(sentinels.map((s) => sentinelKnowsReplica(s.port, name)))).every(Boolean),
      30_000,
      'sentinels know the replica',
    );
    const currentPrimaryPort = async () => {
      const s = new Redis(sentinels[0]!.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      s.on('error', () => {});
      try {
        await s.connect();
        const [, port] = (await s.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string];
        return Number(port);
      } finally {
        s.disconnect();
      }
    };
    return {
      name,
      sentinels,
      primary,
      replica,
      currentPrimaryPort,
      async stop() {
        await Promise.all(started.map((n) => n.kill()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
