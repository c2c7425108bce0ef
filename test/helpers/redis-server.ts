import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { stopProcess } from './process.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a Redis at `url` answers PING now (one short-lived connection, no retries). */
export async function answers(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** One redis-server (or sentinel) process the test can kill and restart on its port. */
export interface RedisNode {
  readonly port: number;
  readonly url: string;
  /** Spawns the process and resolves once it answers. */
  start(): Promise<void>;
  /** SIGKILL: what a crash of the host looks like to the others. */
  kill(): Promise<void>;
}

export function redisNode(port: number, args: string[], binary = 'redis-server'): RedisNode {
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  return {
    port,
    url,
    async start() {
      child = spawn(binary, args, { stdio: 'ignore' });
      await waitUntil(() => answers(url), 10_000, `${binary} on ${port}`);
    },
    async kill() {
      const c = child;
      child = null;
      if (c) await stopProcess(c, 'SIGKILL');
    },
  };
}

/**
 * A private redis-server the test can stop and start again on the same port, for
 * outage tests. Requires the `redis-server` binary (CI installs it when missing).
 * With `aofDir`, it persists as production does at its strictest (AOF, `appendfsync
 * always`) in that directory, so what it acknowledged survives its SIGKILL and restart.
 * With `replicaOf` (a port), it is a replica of the Redis there.
 */
export async function startPrivateRedis(opts: { aofDir?: string; replicaOf?: number } = {}) {
  const port = await freePort();
  const persistence = opts.aofDir
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', opts.aofDir]
    : ['--appendonly', 'no'];
  const replication = opts.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(opts.replicaOf)];
  const node = redisNode(port, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, ...replication]);
  await node.start();
  return { url: node.url, port, start: node.start, stop: node.kill };
}

export { waitUntil };
