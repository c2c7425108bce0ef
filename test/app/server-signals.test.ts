import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopProcess } from '../helpers/process.js';
import { waitUntil } from '../helpers/redis-server.js';

const root = new URL('../../', import.meta.url).pathname;
const OLD = 'revoked-by-sighup-001';
const NEW = 'added-by-sighup-0001';

describe('server process signals', () => {
  let dir: string;
  let file: string;
  let child: ChildProcess;
  let out = '';
  let base = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liq-gate-sighup-'));
    file = join(dir, 'api_keys.txt');
    writeFileSync(file, `old=${OLD}:read\n`);
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      // Polling effectively off: only SIGHUP can make the change visible within this test.
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', API_KEYS_FILE: file, API_KEYS_RELOAD_INTERVAL_MS: '3600000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil(
      async () => {
        const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
        if (m?.[1]) base = m[1];
        return base !== '';
      },
      30_000,
      'the server to listen',
    );
  });
  afterAll(async () => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (key: string) =>
    (await fetch(`${base}/symbols`, { headers: { authorization: `Bearer ${key}` } })).status;

  it('when the keys file changes and the process gets SIGHUP, then the revoked key gets 401 and the new one works', async () => {
    expect(await status(OLD)).toBe(200);
    writeFileSync(file, `new=${NEW}:read\n`);
    expect(await status(OLD)).toBe(200); // nothing re-read yet
    child.kill('SIGHUP');
    await waitUntil(async () => out.includes('SIGHUP: API keys file re-read'), 10_000, 'the reload to be logged');
    expect(await status(OLD)).toBe(401);
    expect(await status(NEW)).toBe(200);
    expect(out).not.toContain(NEW);
  });
});
