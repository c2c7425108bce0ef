import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

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

/**
 * A private redis-server the test can stop and start again on the same port, for
 * outage tests. Requires the `redis-server` binary (CI installs it when missing).
 * With `aofDir`, it persists as production does at its strictest (AOF, `appendfsync
 * always`) in that directory, so what it acknowledged survives its SIGKILL and restart.
 * With `replicaOf` (a port), it is a replica of the Redis there.
 */
export async function startPrivateRedis(opts: { aofDir?: string; replicaOf?: number } = {}) {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const persistence = opts.aofDir
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', opts.aofDir]
    : ['--appendonly', 'no'];
  const start = async () => {
    const replication = opts.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(opts.replicaOf)];
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, ...replication], {
      stdio: 'ignore',
    });
    await waitUntil(() => answers(url), 5_000, `redis-server on ${port}`);
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await start();
  return { url, port, start, stop };
}

export { waitUntil };
