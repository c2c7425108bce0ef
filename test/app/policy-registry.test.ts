import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createPolicyRegistry } from '../../src/ops/policy-registry.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { deletePrefix, randomPrefix, rawRedis } from '../helpers/redis.js';

describe('policy versions across replicas', () => {
  let redis: Redis;
  let prefix: string;
  const clock = manualClock();
  const registry = (instanceId: string, version: string) =>
    createPolicyRegistry({ redis, keys: redisKeys(prefix), instanceId, version, clock, logger: createLogger('silent') });

  beforeAll(() => {
    redis = rawRedis();
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('when replicas start on a new version, then each change is recorded once with who, when, old and new', async () => {
    prefix = randomPrefix('policy');
    const a = registry('replica-a', 'v1');
    const b = registry('replica-b', 'v2');
    const b2 = registry('replica-c', 'v2');
    await a.start();
    await b.start();
    await b2.start(); // same version as the last recorded: no new change
    expect(await a.changes()).toEqual([
      { at: new Date(clock()).toISOString(), by: 'replica-b', oldVersion: 'v1', newVersion: 'v2' },
      { at: new Date(clock()).toISOString(), by: 'replica-a', oldVersion: null, newVersion: 'v1' },
    ]);
    await Promise.all([a.stop(), b.stop(), b2.stop()]);
  });

  it('when live replicas disagree, then the policy-agreement check fails naming each; when the odd one stops, it passes', async () => {
    prefix = randomPrefix('policy');
    const a = registry('replica-a', 'v1');
    const b = registry('replica-b', 'v2');
    await a.start();
    expect(await a.readiness()).toEqual([{ name: 'policy-agreement', ok: true }]);
    await b.start();
    const [check] = await a.readiness();
    expect(check).toMatchObject({ name: 'policy-agreement', ok: false });
    expect(check?.detail).toContain('replica-a=v1');
    expect(check?.detail).toContain('replica-b=v2');
    expect(await a.agreement()).toEqual({
      version: 'v1',
      replicas: [
        { instanceId: 'replica-a', version: 'v1' },
        { instanceId: 'replica-b', version: 'v2' },
      ],
      agree: false,
    });
    await b.stop();
    expect(await a.readiness()).toEqual([{ name: 'policy-agreement', ok: true }]);
    expect(await a.agreement()).toEqual({ version: 'v1', replicas: [{ instanceId: 'replica-a', version: 'v1' }], agree: true });
    await a.stop();
  });

  it('when the shared registry cannot be read, then the agreement is unknown (null), not a failure', async () => {
    prefix = randomPrefix('policy');
    const closed = rawRedis();
    await closed.quit();
    const r = createPolicyRegistry({ redis: closed, keys: redisKeys(prefix), instanceId: 'a', version: 'v1', clock, logger: createLogger('silent') });
    expect(await r.agreement()).toEqual({ version: 'v1', replicas: null, agree: null });
  });

  it('when a replica died without stopping, then its announcement expires and no longer counts', async () => {
    prefix = randomPrefix('policy');
    const a = registry('replica-a', 'v1');
    const dead = registry('replica-dead', 'v0');
    await dead.start(); // never stopped: its entry stays until it expires
    await a.start();
    expect((await a.readiness())[0]?.ok).toBe(false);
    clock.advance(31_000);
    expect(await a.replicas()).toEqual([]); // a's own entry expired too: it renews every 10 s, the clock jumped
    expect((await a.readiness())[0]?.ok).toBe(true);
    await a.stop();
    await dead.stop();
  });

  describe('in the app', () => {
    let one: TestApp;
    let two: TestApp;
    const shared = randomPrefix('policy-app');
    beforeAll(async () => {
      one = await buildTestApp({ store: 'redis', env: { REDIS_KEY_PREFIX: shared, INSTANCE_ID: 'one' } });
      two = await buildTestApp({
        store: 'redis',
        env: { REDIS_KEY_PREFIX: shared, INSTANCE_ID: 'two', POLICY_JSON: '{"pretrade":{"maxHeatmapAgeMs":5000}}' },
      });
    });
    afterAll(async () => {
      await two.close();
      await one.close();
    });

    it('when two replicas run different policies, then /health/status on either shows it, and readiness is unaffected', async () => {
      expect(one.config.policy.version).not.toBe(two.config.policy.version);
      const status = (await one.app.inject({ method: 'GET', url: '/health/status' })).json<{
        degraded: string[];
        checks: { name: string; detail?: string }[];
      }>();
      expect(status.degraded).toContain('policy-agreement');
      const detail = status.checks.find((c) => c.name === 'policy-agreement')?.detail ?? '';
      expect(detail).toContain(`one=${one.config.policy.version}`);
      expect(detail).toContain(`two=${two.config.policy.version}`);
      expect((await one.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    });

    it('when two replicas run different policies, then GET /symbols on either names every replica\'s version and agree is false', async () => {
      const replicas = [
        { instanceId: 'one', version: one.config.policy.version },
        { instanceId: 'two', version: two.config.policy.version },
      ];
      for (const t of [one, two]) {
        const res = await t.app.inject({ method: 'GET', url: '/symbols', headers: bearer(TEST_KEYS.read) });
        expect(res.statusCode).toBe(200);
        expect(res.json<{ policy: unknown }>().policy).toEqual({ version: t.config.policy.version, replicas, agree: false });
      }
    });
  });

  it('when the store is memory, then GET /symbols shows this replica alone, agreeing with itself', async () => {
    const t = await buildTestApp({ env: { INSTANCE_ID: 'solo' } });
    try {
      const res = await t.app.inject({ method: 'GET', url: '/symbols', headers: bearer(TEST_KEYS.read) });
      const version = t.config.policy.version;
      expect(res.json<{ policy: unknown }>().policy).toEqual({ version, replicas: [{ instanceId: 'solo', version }], agree: true });
    } finally {
      await t.close();
    }
  });
});
