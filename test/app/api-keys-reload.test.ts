import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, type TestApp } from '../helpers/app.js';
import { waitUntil } from '../helpers/redis-server.js';

const OLD = 'rotated-out-key-0001';
const KEEP = 'still-valid-key-0001';
const NEW = 'rotated-in-key-00001';

describe('API keys rotated and revoked without a restart (API_KEYS_FILE)', () => {
  let dir: string;
  let file: string;
  let t: TestApp;
  const status = async (key: string) =>
    (await t.app.inject({ method: 'GET', url: '/symbols', headers: bearer(key) })).statusCode;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liq-gate-keys-'));
    file = join(dir, 'api_keys.txt');
    writeFileSync(file, `# desk keys\nold=${OLD}:read\nkeep=${KEEP}:read\n`);
    t = await buildTestApp({ env: { API_KEYS: '', API_KEYS_FILE: file, API_KEYS_RELOAD_INTERVAL_MS: '50' } });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the file is rewritten in place, then the removed key gets 401 and the added key works, with no restart', async () => {
    expect(await status(OLD)).toBe(200);
    expect(await status(NEW)).toBe(401);
    writeFileSync(file, `keep=${KEEP}:read\nnew=${NEW}:read\n`);
    await waitUntil(async () => (await status(OLD)) === 401, 10_000, 'the revoked key to be refused');
    expect(await status(NEW)).toBe(200);
    expect(await status(KEEP)).toBe(200);
    expect(t.logs.text()).toContain('API keys reloaded');
    expect(t.logs.text()).not.toContain(NEW);
  });

  it('when the file turns invalid or empty, then a reload is refused and the keys in force stay', async () => {
    writeFileSync(file, `keep=${KEEP}:read\nbroken line\n`);
    expect(t.app.reloadApiKeys()).toBe(false);
    writeFileSync(file, '');
    expect(t.app.reloadApiKeys()).toBe(false);
    expect(await status(KEEP)).toBe(200);
    expect(await status(NEW)).toBe(200);
    expect(t.logs.text()).toContain('previous keys stay in force');
  });

  it('when reloaded on demand (SIGHUP), then the file in force is read at once', async () => {
    writeFileSync(file, `keep=${KEEP}:read\n`);
    expect(t.app.reloadApiKeys()).toBe(true);
    expect(await status(NEW)).toBe(401);
    expect(await status(KEEP)).toBe(200);
  });
});
