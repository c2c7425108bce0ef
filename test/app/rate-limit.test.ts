import { afterEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { randomPrefix } from '../helpers/redis.js';

const LIMITED = { RATE_LIMIT_PER_KEY: '3', RATE_LIMIT_WINDOW_MS: '60000' };

describe('request limit per API key', () => {
  const open: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  const build = async (...args: Parameters<typeof buildTestApp>) => {
    const t = await buildTestApp(...args);
    open.push(t);
    return t;
  };
  const get = (t: TestApp, key: string, url = '/policy') => t.app.inject({ method: 'GET', url, headers: bearer(key) });

  it('when a key goes over its limit, then it gets 429 in the one error shape with Retry-After, and another key does not', async () => {
    const t = await build({ env: LIMITED });
    for (let i = 0; i < 3; i++) expect((await get(t, TEST_KEYS.read)).statusCode).toBe(200);
    const res = await get(t, TEST_KEYS.read);
    expect(res.statusCode).toBe(429);
    expect(res.json()).toEqual({ statusCode: 429, error: 'RATE_LIMITED', message: expect.stringContaining('more than 3 requests'), requestId: res.headers['x-request-id'] });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await get(t, TEST_KEYS.all)).statusCode).toBe(200);
  });

  it('when the limit is reached, then an invalid body gets 429, not 400, and nothing is audited', async () => {
    let appended = 0;
    const t = await build({
      env: LIMITED,
      stores: (built) => ({ auditLog: { ...built.auditLog, append: async (entries) => ((appended += entries.length), built.auditLog.append(entries)) } }),
    });
    const bad = () => t.app.inject({ method: 'POST', url: '/pretrade-check', headers: bearer(TEST_KEYS.pretrade), payload: { nonsense: true } });
    for (let i = 0; i < 3; i++) expect((await bad()).statusCode).toBe(400);
    expect((await bad()).statusCode).toBe(429);
    const ok = await t.app.inject({ method: 'POST', url: '/pretrade-check', headers: bearer(TEST_KEYS.pretrade), payload: { symbol: 'BTCUSDT', side: 'buy', quantity: 1, price: 100_000 } });
    expect(ok.statusCode).toBe(429);
    expect(appended).toBe(0);
  });

  it('when health routes are called many times, then they are never limited', async () => {
    const t = await build({ env: { ...LIMITED, RATE_LIMIT_PER_KEY: '1' } });
    for (let i = 0; i < 10; i++) expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(t, TEST_KEYS.read, '/health/status')).statusCode).toBe(200);
  });

  it('when RATE_LIMIT_PER_KEY is 0, then there is no limit', async () => {
    const t = await build({ env: { RATE_LIMIT_PER_KEY: '0' } });
    for (let i = 0; i < 20; i++) expect((await get(t, TEST_KEYS.read)).statusCode).toBe(200);
  });

  it('when two replicas share one Redis, then a key has one count across both', async () => {
    const env = { ...LIMITED, RATE_LIMIT_PER_KEY: '4', REDIS_KEY_PREFIX: randomPrefix('rl') };
    const a = await build({ store: 'redis', env });
    const b = await build({ store: 'redis', env });
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await get(i % 2 === 0 ? a : b, TEST_KEYS.read)).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
    expect((await get(b, TEST_KEYS.all)).statusCode).toBe(200);
  });
});
