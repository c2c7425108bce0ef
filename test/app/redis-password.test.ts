import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/infra.js';
import { createLogger } from '../../src/logger.js';
import { logSink } from '../helpers/app.js';
import { startPrivateRedis } from '../helpers/redis-server.js';

const PASSWORD = 'test-only-redis-password-7f3a';

describe('Redis with a password (REDIS_PASSWORD_FILE)', () => {
  let server: Awaited<ReturnType<typeof startPrivateRedis>>;
  beforeAll(async () => {
    server = await startPrivateRedis();
    const admin = new Redis(server.url);
    await admin.config('SET', 'requirepass', PASSWORD);
    admin.disconnect();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('when the password is given, then the service connects, and never logs it', async () => {
    const logs = logSink();
    const redis = await connectRedis(server.url, createLogger('info', logs.stream), PASSWORD);
    expect(await redis.ping()).toBe('PONG');
    await redis.quit();
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it('when no password is given, then startup fails with a clear message', async () => {
    const err = await connectRedis(server.url, createLogger('silent')).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+: .*NOAUTH/i);
  });
});
