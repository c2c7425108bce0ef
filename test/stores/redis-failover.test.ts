import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createRedisFailoverWatch, runIdOf } from '../../src/stores/redis-failover.js';
import { redisKeys } from '../../src/stores/redis-keys.js';
import { deletePrefix, randomPrefix, rawRedis } from '../helpers/redis.js';

/*
 * The Redis identity compare-and-set on the test Redis. A real failover is in
 * test/ha/sentinel-positions.test.ts; here a changed identity is staged by overwriting the
 * stored one, as a promoted node holding the old primary's replicated hash would look.
 */

const redis = rawRedis();
const prefix = randomPrefix('failover');
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const watch = (now: number) => createRedisFailoverWatch({ redis, key: redisKeys(prefix).redisIdentity(), clock: () => now, logger: createLogger('silent'), intervalMs: 60_000 });

describe('the Redis failover watch', () => {
  it('reads the run_id from INFO server', () => {
    expect(runIdOf('# Server\r\nredis_version:7.0.15\r\nrun_id:4f1c0b2a9e\r\ntcp_port:6379\r\n')).toBe('4f1c0b2a9e');
    expect(runIdOf('# Server\r\nredis_version:7.0.15\r\n')).toBeNull();
  });

  it('when the identity is first stored, then no failover is seen; when it changes, every replica sees the time the first one stored', async () => {
    const first = watch(1_000);
    await first.check();
    expect(first.failoverAt()).toBeNull();
    await first.check();
    expect(first.failoverAt()).toBeNull();

    await redis.hset(redisKeys(prefix).redisIdentity(), 'id', 'the-old-primary');
    const seeing = watch(5_000);
    await seeing.check();
    expect(seeing.failoverAt()).toBe(5_000);

    const later = watch(9_000); // another replica, or one started after the failover
    await later.check();
    expect(later.failoverAt()).toBe(5_000);
    await first.check();
    expect(first.failoverAt()).toBe(5_000);
  });
});
