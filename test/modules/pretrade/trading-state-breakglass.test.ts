import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { configFromEnv } from '../../helpers/config.js';
import { createLogger } from '../../../src/logger.js';
import type { NewHeatmapSnapshot } from '../../../src/stores/heatmap-store.js';
import { closeStores, createStores, type Stores } from '../../../src/stores/index.js';
import { publishTo } from '../../helpers/observe.js';
import type { AppInstance } from '../../../src/modules/module.js';
import { HaltFile, parseHaltFile } from '../../../src/modules/pretrade/halt-file.js';
import { bearer, buildTestApp, logSink, manualClock, TEST_API_KEYS, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { deletePrefix, randomPrefix, testRedisUrl } from '../../helpers/redis.js';
import { buildRequest, codes, NOW, publishHeatmap } from './helpers.js';

describe('break-glass halt file', () => {
  let dir: string;
  let haltFile: string;
  let t: TestApp;
  const post = (body: unknown) => request(t.app.server).post('/pretrade-check').set(bearer(TEST_KEYS.pretrade)).send(body as object);
  /** The decision for a small opening order on `symbol`, with its codes. */
  const opening = async (symbol = 'BTCUSDT') => {
    const res = await post(buildRequest({ symbol, quantity: 0.1 }));
    expect(res.status).toBe(200);
    return `${res.body.decision as string} ${codes(res.body).join(',')}`.trim();
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liqgate-halt-'));
    haltFile = join(dir, 'HALT');
    t = await buildTestApp({ clock: manualClock(NOW), env: { HALT_FILE: haltFile, HALT_FILE_POLL_MS: '50' } });
    await publishHeatmap(t);
    await publishHeatmap(t, { symbol: 'ETHUSDT' });
  });
  afterEach(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('when the file appears on a running replica, then risk is rejected TRADING_HALTED without a restart, and lifting it needs only its removal', async () => {
    expect(await opening()).toBe('APPROVE');

    await writeFile(haltFile, 'HALTED exchange incident, see runbook\n');
    await expect.poll(() => opening()).toBe('REJECT TRADING_HALTED');
    expect(await opening('ETHUSDT')).toBe('REJECT TRADING_HALTED');

    const view = await request(t.app.server).get('/admin/trading-state').set(bearer(TEST_KEYS.admin));
    expect(view.body.global.state).toBe('ACTIVE'); // the store is untouched
    expect(view.body.haltFile).toEqual({ path: haltFile, detail: 'break-glass halt file: global HALTED' });
    expect(view.body.effective).toEqual({ BTCUSDT: 'HALTED', ETHUSDT: 'HALTED' });
    expect((await request(t.app.server).get('/health/ready')).status).toBe(200);
    const status = await request(t.app.server).get('/health/status');
    expect(status.body.checks).toContainEqual({ name: 'halt-file', ok: false, detail: 'break-glass halt file: global HALTED' });
    expect(t.logs.text()).toContain('break-glass halt file in force');

    await unlink(haltFile);
    await expect.poll(() => opening()).toBe('APPROVE');
  });

  it('when the file names one symbol REDUCING, then only that symbol rejects new risk', async () => {
    await writeFile(haltFile, '# delisting\nETHUSDT REDUCING delisting tomorrow\n');
    await expect.poll(() => opening('ETHUSDT')).toBe('REJECT TRADING_REDUCING');
    expect(await opening('BTCUSDT')).toBe('APPROVE');
  });

  it('when the stored state is stricter than the file, then the stored state applies: the file never loosens', async () => {
    const put = await request(t.app.server)
      .put('/admin/trading-state')
      .set(bearer(TEST_KEYS.admin))
      .send({ state: 'HALTED', reason: 'incident' });
    expect(put.status).toBe(200);
    await writeFile(haltFile, 'REDUCING\n');
    await expect.poll(async () => (await request(t.app.server).get('/admin/trading-state').set(bearer(TEST_KEYS.admin))).body.haltFile.detail).toContain('REDUCING');
    expect(await opening()).toBe('REJECT TRADING_HALTED');
  });
});

describe('parsing the halt file: whatever an operator writes halts at least as much as they meant', () => {
  const symbols = ['BTCUSDT', 'ETHUSDT'];
  it.each([
    ['an empty file (touch)', '', { global: 'HALTED', symbols: {} }],
    ['only comments', '# nothing yet\n', { global: 'HALTED', symbols: {} }],
    ['a global REDUCING', 'REDUCING maintenance\n', { global: 'REDUCING', symbols: {} }],
    ['a symbol HALTED', 'BTCUSDT HALTED\n', { global: null, symbols: { BTCUSDT: 'HALTED' } }],
    ['two lines for one scope', 'BTCUSDT HALTED\nBTCUSDT REDUCING\n', { global: null, symbols: { BTCUSDT: 'HALTED' } }],
    ['a lower-case state', 'halted\n', { global: 'HALTED', symbols: {} }],
    ['ACTIVE (the file cannot loosen)', 'ACTIVE\n', { global: 'HALTED', symbols: {} }],
    ['an unknown symbol', 'DOGEUSDT HALTED\n', { global: 'HALTED', symbols: {} }],
  ])('%s', (_name, text, expected) => {
    expect(parseHaltFile(text, symbols)).toMatchObject(expected);
  });
});

describe('reading the halt file', () => {
  const fileError = (code: string) => Object.assign(new Error(code), { code });
  const haltFileReading = (read: () => Promise<string>) => new HaltFile('/run/halt', ['BTCUSDT'], createLogger('silent'), read);

  it('when the file does not exist, then it sets nothing', async () => {
    const f = haltFileReading(() => Promise.reject(fileError('ENOENT')));
    await f.poll();
    expect(f.current('BTCUSDT')).toEqual({ global: null, symbol: null });
    expect(f.view().detail).toBeNull();
  });

  it('when the file exists but cannot be read, then it halts globally and says why', async () => {
    const f = haltFileReading(() => Promise.reject(fileError('EACCES')));
    await f.poll();
    expect(f.current('BTCUSDT')).toEqual({ global: 'HALTED', symbol: null });
    expect(f.view().detail).toContain('EACCES');
  });
});

describe('a Redis store without the initialisation marker', () => {
  let prefix: string;
  const clock = manualClock(NOW);
  const replicas: { app: AppInstance; redis: Redis; stores: Stores; logs: ReturnType<typeof logSink> }[] = [];
  let raw: Redis;

  /** One replica on the shared prefix, refreshing the trading state often, with a fresh heatmap. */
  async function startReplica() {
    const config = configFromEnv({
      NODE_ENV: 'test',
      API_KEYS: TEST_API_KEYS,
      SYMBOLS: 'BTCUSDT,ETHUSDT',
      STORE: 'redis',
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: prefix,
      TRADING_STATE_REFRESH_MS: '100',
    });
    const logs = logSink();
    const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
    const logger = createLogger('info', logs.stream);
    const stores = createStores(config, { redis, clock, logger });
    const app = await buildApp(config, { clock, logger, redis, marketSource: null, stores });
    await app.ready();
    const publisher = { publish: (s: NewHeatmapSnapshot) => publishTo(app, stores.heatmaps, s) };
    await publishHeatmap(publisher);
    await publishHeatmap(publisher, { symbol: 'ETHUSDT' });
    const replica = { app, redis, stores, logs };
    replicas.push(replica);
    return replica;
  }
  const opening = async (app: AppInstance) => {
    const res = await request(app.server).post('/pretrade-check').set(bearer(TEST_KEYS.pretrade)).send(buildRequest({ quantity: 0.1 }));
    expect(res.status).toBe(200); // never a 503: engines keep getting decisions
    return `${res.body.decision as string} ${codes(res.body).join(',')}`.trim();
  };
  const setGlobal = (app: AppInstance, state: string) =>
    request(app.server).put('/admin/trading-state').set(bearer(TEST_KEYS.admin)).send({ state, reason: 'initial deployment' });

  beforeAll(() => {
    raw = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await raw.quit();
  });
  beforeEach(() => {
    prefix = randomPrefix('marker');
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) {
      await r.app.close();
      await closeStores(r.stores);
      await r.redis.quit();
    }
    await deletePrefix(raw, prefix);
  });

  it('when a deployment is new, then every replica rejects TRADING_HALTED, stays ready and says why, until an admin sets the global state', async () => {
    const a = await startReplica();
    expect(await opening(a.app)).toBe('REJECT TRADING_HALTED');
    const ready = await request(a.app.server).get('/health/ready');
    expect(ready.status).toBe(200);
    const status = await request(a.app.server).get('/health/status');
    expect(status.body.degraded).toContain('trading-state-initialised');
    expect(status.body.checks).toContainEqual({
      name: 'trading-state-initialised',
      ok: false,
      detail: expect.stringMatching(/^DEGRADED: the trading-state store has no initialisation marker/),
    });
    expect(a.logs.text()).toContain('no initialisation marker');
    const view = await request(a.app.server).get('/admin/trading-state').set(bearer(TEST_KEYS.admin));
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ loaded: true, initialised: false, effective: { BTCUSDT: 'HALTED', ETHUSDT: 'HALTED' } });

    expect((await setGlobal(a.app, 'ACTIVE')).status).toBe(200);
    expect(await opening(a.app)).toBe('APPROVE');
    const b = await startReplica();
    expect(await opening(b.app)).toBe('APPROVE');
    expect((await request(b.app.server).get('/health/status')).body.checks).toContainEqual({ name: 'trading-state-initialised', ok: true });
  });

  it('when the prefix\'s keys are flushed, then running and fresh replicas all read HALTED, until one admin PUT makes them ACTIVE again', async () => {
    const a = await startReplica();
    const b = await startReplica();
    expect((await setGlobal(a.app, 'ACTIVE')).status).toBe(200);
    await expect.poll(() => opening(b.app)).toBe('APPROVE');
    expect(await opening(a.app)).toBe('APPROVE');

    await deletePrefix(raw, prefix); // Redis restarted without persistence, or flushed
    await expect.poll(() => opening(a.app)).toBe('REJECT TRADING_HALTED');
    await expect.poll(() => opening(b.app)).toBe('REJECT TRADING_HALTED');
    const c = await startReplica();
    expect(await opening(c.app)).toBe('REJECT TRADING_HALTED');

    expect((await setGlobal(c.app, 'ACTIVE')).status).toBe(200);
    expect(await opening(c.app)).toBe('APPROVE');
    await expect.poll(() => opening(a.app)).toBe('APPROVE');
    await expect.poll(() => opening(b.app)).toBe('APPROVE');
    expect(a.logs.text()).toContain('trading-state store initialised');
  });
});
