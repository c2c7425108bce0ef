import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-client.js';
import { parseHolder, type PollLeases } from './lease.js';
import type { RedisKeys } from './redis-keys.js';
import { ensureReady } from './heatmap-store.redis.js';
import { withTimeout } from '../lib/async.js';

// KEYS: lease, token counter. ARGV: owner, ttl ms. Takes a free lease and a new fencing token
// atomically. A lease this process still holds (value "<owner>|<token>": a renewal errored or
// an acquire's reply was lost) is extended and its token returned: nobody else can have
// taken a token since, so resuming with it is safe.
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local mine = ARGV[1] .. '|'
  if string.sub(cur, 1, string.len(mine)) == mine then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(cur, string.len(mine) + 1))
  end
  return 0
end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. t, 'PX', ARGV[2])
return t`;

// KEYS: lease. ARGV: expected value, ttl ms. Extends only our own lease.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

// KEYS: lease. ARGV: expected value. Deletes only our own lease.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisLeaseOptions {
  redis: RedisClient;
  keys: RedisKeys;
  instanceId: string;
  ttlMs: number;
  /** Upper bound on one lease command, so a dead connection cannot stall the poller. */
  commandTimeoutMs?: number;
}

/**
 * Leases in Redis: `SET`-if-absent with a TTL plus a per-symbol INCR fencing token (one
 * Lua script, so the token and the lease cannot disagree), compare-and-PEXPIRE to renew,
 * compare-and-DEL to release. Redis expires the key, so a dead holder frees it after ttl.
 * `renew` answers false only when the lease is definitely not ours (the script found
 * another value or none); a command that fails or times out rejects, and the caller
 * decides (the poller keeps leading until the TTL has surely run out). `acquire`
 * recognises a lease this process still holds and returns its token.
 */
export function createRedisLeases(opts: RedisLeaseOptions): PollLeases {
  const { redis, keys, ttlMs } = opts;
  const timeoutMs = opts.commandTimeoutMs ?? Math.max(500, Math.floor(ttlMs / 3));
  const owner = `${opts.instanceId}#${randomUUID().slice(0, 8)}`;
  /** Lease values we hold, per symbol. */
  const held = new Map<string, string>();

  const run = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    ensureReady(redis);
    return withTimeout(fn(), timeoutMs, `lease ${what}`);
  };

  return {
    instanceId: opts.instanceId,
    ttlMs,
    async acquire(symbol) {
      const t = Number(
        await run('acquire', () => redis.eval(ACQUIRE, 2, keys.pollLease(symbol), keys.pollLeaseToken(symbol), owner, ttlMs)),
      );
      if (!(t > 0)) return null;
      held.set(symbol, `${owner}|${t}`);
      return t;
    },
    async renew(symbol) {
      const value = held.get(symbol);
      if (value === undefined) return false;
      const ok = Number(await run('renew', () => redis.eval(RENEW, 1, keys.pollLease(symbol), value, ttlMs))) === 1;
      if (!ok) held.delete(symbol);
      return ok;
    },
    async release(symbol) {
      const value = held.get(symbol);
      if (value === undefined) return;
      held.delete(symbol);
      await run('release', () => redis.eval(RELEASE, 1, keys.pollLease(symbol), value));
    },
    async holder(symbol) {
      const v = await run('holder', () => redis.get(keys.pollLease(symbol)));
      return parseHolder(v)?.instanceId ?? null;
    },
  };
}
