import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { configFromEnv } from '../helpers/config.js';
import { createLogger } from '../../src/logger.js';
import type { AppInstance } from '../../src/modules/module.js';
import { bearer, buildTestApp, TEST_API_KEYS, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { deletePrefix, randomPrefix, testRedisUrl } from '../helpers/redis.js';
import { stopProcess } from '../helpers/process.js';
import { waitUntil } from '../helpers/redis-server.js';
import { holdingProxy } from './holding-proxy.js';
import { portOf } from './raw-http.js';

const haproxyInstalled = spawnSync('haproxy', ['-v']).status === 0;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** deploy/haproxy/haproxy.cfg with only what must differ here: the bind address and two local replicas. */
function localHaproxyConfig(lbPort: number, replicas: { name: string; port: number }[]): string {
  const cfg = readFileSync(new URL('../../deploy/haproxy/haproxy.cfg', import.meta.url), 'utf8');
  const servers = replicas.map((r) => `    server ${r.name} 127.0.0.1:${r.port} check`).join('\n');
  const out = cfg
    .replace(/^ {4}bind :8080$/m, `    bind 127.0.0.1:${lbPort}`)
    .replace(/^ {4}server-template .*$/m, servers)
    .replace(/^ {4}maxconn 20000$/m, '    maxconn 2000') // the test machine's file limit
    .replace(/^ {4}log stdout .*$/m, '    log stdout format raw local0 emerg');
  expect(out).toContain(`bind 127.0.0.1:${lbPort}`);
  expect(out).toContain(servers);
  return out;
}

describe.skipIf(!haproxyInstalled && !process.env.CI)('the load balancer config in front of real replicas (skipped without the haproxy binary, never in CI)', () => {
  let ready: TestApp;
  let proxy: Awaited<ReturnType<typeof holdingProxy>>;
  let startingRedis: Redis;
  let starting: AppInstance;
  const startingPrefix = randomPrefix('lb');
  let haproxy: ChildProcess;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    ready = await buildTestApp({ env: { INSTANCE_ID: 'replica-ready' } });
    await ready.app.listen({ host: '127.0.0.1', port: 0 });
    // A second replica whose startup hangs on its Redis subscriptions: live, not ready.
    proxy = await holdingProxy(testRedisUrl());
    startingRedis = new Redis(proxy.url, { maxRetriesPerRequest: 1 });
    await startingRedis.ping();
    proxy.hold();
    starting = await buildApp(
      configFromEnv({
        NODE_ENV: 'test',
        STORE: 'redis',
        REDIS_URL: proxy.url,
        REDIS_KEY_PREFIX: startingPrefix,
        API_KEYS: TEST_API_KEYS,
        INSTANCE_ID: 'replica-starting',
        STARTUP_WAIT_MS: '100',
      }),
      { clock: () => Date.now(), logger: createLogger('silent'), redis: startingRedis, marketSource: null },
    );
    await starting.listen({ host: '127.0.0.1', port: 0 });

    const lbPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'liq-gate-lb-'));
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      localHaproxyConfig(lbPort, [
        { name: 'ready', port: portOf(ready.app) },
        { name: 'starting', port: portOf(starting) },
      ]),
    );
    haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
    base = `http://127.0.0.1:${lbPort}`;
    await waitUntil(
      async () => (await fetch(`${base}/health/live`).then((r) => r.status === 200).catch(() => false)),
      10_000,
      'haproxy to listen',
    );
  });
  afterAll(async () => {
    await stopProcess(haproxy);
    proxy.release();
    await starting.close();
    await deletePrefix(startingRedis, startingPrefix);
    await startingRedis.quit();
    await proxy.close();
    await ready.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // A new connection each time: the proxy may close a kept-alive one as replicas change state.
  const readyVia = async () => {
    const r = await fetch(`${base}/health/ready`, { headers: { connection: 'close' } });
    return { status: r.status, body: (await r.json()) as { instanceId?: string; statusCode?: number } };
  };

  it('when one replica is still starting, then traffic goes only to the ready one; once it is ready, to both', async () => {
    // Until the proxy's checks mark the starting replica down, some requests may still reach it.
    const onlyReady = async () => {
      for (let i = 0; i < 10; i++) if ((await readyVia()).body.instanceId !== 'replica-ready') return false;
      return true;
    };
    await waitUntil(onlyReady, 20_000, 'the starting replica to be out of rotation');
    const check = await fetch(`${base}/pretrade-check`, {
      method: 'POST',
      headers: { ...bearer(TEST_KEYS.pretrade), 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', notional: 1000, orderType: 'market' }),
    });
    expect(check.status).toBe(200);

    proxy.release();
    await starting.started;
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        seen.add((await readyVia()).body.instanceId ?? '');
        return seen.has('replica-starting');
      },
      20_000,
      'the started replica to be back in rotation',
    );
    expect([...seen].filter(Boolean).sort()).toEqual(['replica-ready', 'replica-starting']);
  });

  it('when a request carries two Authorization headers, then the proxy refuses it in the gate error shape', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(base);
      const s = net.connect(Number(url.port), url.hostname, () =>
        s.write('GET /symbols HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString()));
      s.on('error', reject);
      s.on('close', () => resolve({ status: Number(text.split(' ')[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
    });
    expect(status).toBe(400);
    expect(JSON.parse(body)).toEqual({
      statusCode: 400,
      error: 'BAD_REQUEST',
      message: 'Send exactly one Authorization header',
      requestId: expect.any(String),
    });
  });
});
