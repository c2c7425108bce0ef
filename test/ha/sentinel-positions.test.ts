import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/infra.js';
import { createLogger } from '../../src/logger.js';
import type { RedisClient } from '../../src/stores/redis-client.js';
import { bearer, buildTestApp, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { waitUntil } from '../helpers/redis-server.js';
import { randomPrefix } from '../helpers/redis.js';
import { startRedisSentinel, type RedisSentinelHandle } from '../helpers/redis-topologies.js';
import { buildRequest, check, NOW, publishHeatmap } from '../modules/pretrade/helpers.js';

/*
 * A Sentinel failover may lose writes the old primary acknowledged but had not replicated
 * (a fill, a reconciliation), so after it positions reconciled before it count as
 * unconfirmed until reconciled again. Primary, one replica and three sentinels from
 * Debian's redis-server; the primary is SIGKILLed and the sentinels promote the replica.
 */

const ACCOUNT = 'acct-failover';

describe('positions across a Redis Sentinel failover', () => {
  let sentinel: RedisSentinelHandle;
  let redis: RedisClient;
  let t: TestApp;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    redis = await connectRedis({ sentinels: sentinel.sentinels, name: sentinel.name }, createLogger('silent'));
    t = await buildTestApp({ store: 'redis', redis, clock: () => NOW, env: { REDIS_KEY_PREFIX: randomPrefix('sentinel-pos') } });
    await publishHeatmap(t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    redis?.disconnect();
    await sentinel?.stop();
  });

  const reconcileFlat = (asOf: number) =>
    t.app.inject({ method: 'PUT', url: `/accounts/${ACCOUNT}/positions`, headers: bearer(TEST_KEYS.pretrade), payload: { asOf: new Date(asOf).toISOString(), positions: [] } });
  const exposure = async () => (await t.app.inject({ method: 'GET', url: `/accounts/${ACCOUNT}/exposure`, headers: bearer(TEST_KEYS.all) })).json();
  const closeLong = async () => (await check(t.app, buildRequest({ accountId: ACCOUNT, side: 'sell', reduceOnly: true }))).json();

  it('when the primary fails over, then positions reconciled before it are unconfirmed (reduce-only passes with a warning) until the next reconciliation', async () => {
    expect((await reconcileFlat(NOW - 60_000)).statusCode).toBe(200);
    expect(await exposure()).toMatchObject({ positionsConfirmed: true, redisFailoverAt: null });
    const confirmedFlat = await closeLong();
    expect(confirmedFlat.decision).toBe('REJECT');
    expect(confirmedFlat.reasons.map((r: { code: string }) => r.code)).toContain('REDUCE_ONLY_NO_POSITION');

    await sentinel.primary.kill();
    await waitUntil(async () => (await sentinel.currentPrimaryPort()) === sentinel.replica.port, 30_000, 'sentinel failover');
    // Every replica compares the server's run_id on reconnection and every second.
    await waitUntil(async () => (await exposure().catch(() => null))?.redisFailoverAt !== null, 30_000, 'failover seen by the service');

    const after = await exposure();
    expect(after).toMatchObject({ positionsConfirmed: false, redisFailoverAt: new Date(NOW).toISOString() });
    const unconfirmed = await closeLong();
    expect(unconfirmed.decision).toBe('APPROVE');
    expect(unconfirmed.warnings.map((w: { code: string }) => w.code)).toContain('REDUCE_ONLY_POSITION_UNCONFIRMED');
    const status = (await t.app.inject({ method: 'GET', url: '/health/status' })).json();
    expect(status.checks).toContainEqual(expect.objectContaining({ name: 'redis-failover', ok: false }));

    expect((await reconcileFlat(NOW)).statusCode).toBe(200);
    expect(await exposure()).toMatchObject({ positionsConfirmed: true });
    const reconfirmed = await closeLong();
    expect(reconfirmed.decision).toBe('REJECT');
    expect(reconfirmed.reasons.map((r: { code: string }) => r.code)).toContain('REDUCE_ONLY_NO_POSITION');
  }, 60_000);
});
