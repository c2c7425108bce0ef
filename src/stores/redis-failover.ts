import { Cluster, type Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisClient } from './redis-client.js';

/**
 * Notices a Redis failover and remembers when it happened, for every replica.
 *
 * What counts: the identity of the Redis server(s) the client talks to changed. That is
 * the `run_id` of INFO server (on a Cluster, the run_ids of every primary), which a new
 * process always has: a Sentinel promotion, a Cluster failover, and also a restart of Redis
 * (whose AOF may lack the last second under `appendfsync everysec`). In each case writes
 * acknowledged before it may be missing, so exposure counts positions reconciled before it
 * as unconfirmed until they are reconciled again.
 *
 * The identity and the time it last changed are kept in Redis (one hash, compared and set
 * by one script), so a replica that was not connected during the failover, or started
 * after it, learns the same time. The check runs on every (re)connection and every
 * `intervalMs`. The first identity ever stored is not a failover.
 */
export interface RedisFailoverWatch {
  /** When the last failover was seen (epoch ms), or null when none since the identity was first stored. */
  failoverAt(): number | null;
  /** Compares the identity now (also run on every reconnection and periodically once started). */
  check(): Promise<void>;
  start(): void;
  stop(): void;
}

/**
 * KEYS[1]: the identity hash. ARGV: identity, now. Returns the failover time, or false.
 * A changed identity sets `failoverAt` to now (the first replica to see it decides).
 */
const COMPARE = `
local id = redis.call('HGET', KEYS[1], 'id')
if not id then
  redis.call('HSET', KEYS[1], 'id', ARGV[1])
elseif id ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'id', ARGV[1], 'failoverAt', ARGV[2])
end
return redis.call('HGET', KEYS[1], 'failoverAt')`;

/** The server's run_id from an INFO server reply. */
export function runIdOf(info: string): string | null {
  return /^run_id:([0-9a-f]+)\s*$/m.exec(info)?.[1] ?? null;
}

async function identityOf(redis: RedisClient): Promise<string> {
  const nodes: Pick<Redis, 'info'>[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const ids = await Promise.all(nodes.map(async (n) => runIdOf(await n.info('server'))));
  if (ids.length === 0 || ids.some((id) => id === null)) throw new Error('INFO server gave no run_id');
  return ids.sort().join(',');
}

export function createRedisFailoverWatch(opts: {
  redis: RedisClient;
  key: string;
  clock: () => number;
  logger: Logger;
  /** How often the identity is compared besides on reconnection. */
  intervalMs: number;
}): RedisFailoverWatch {
  const { redis, key, clock, logger } = opts;
  let failoverAt: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  const compare = async (): Promise<void> => {
    const identity = await identityOf(redis);
    const at = (await redis.eval(COMPARE, 1, key, identity, clock())) as string | null;
    const next = at === null ? null : Number(at);
    if (next !== null && next !== failoverAt) {
      logger.warn({ failoverAt: new Date(next).toISOString() }, 'redis failover seen: positions reconciled before it count as unconfirmed until reconciled');
    }
    failoverAt = next;
  };
  const check = (): Promise<void> =>
    (running ??= compare()
      .catch((err: unknown) => logger.debug({ err }, 'redis identity not compared (redis unavailable)'))
      .finally(() => {
        running = null;
      }));
  const onReady = () => void check();

  return {
    failoverAt: () => failoverAt,
    check,
    start() {
      if (timer) return;
      redis.on('ready', onReady);
      timer = setInterval(() => void check(), opts.intervalMs);
      timer.unref();
      void check();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      redis.off('ready', onReady);
    },
  };
}
