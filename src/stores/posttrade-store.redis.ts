import { primaryWrites, type DurableWrites } from './durable-writes.js';
import type { RedisClient } from './redis-client.js';
import type { FillAnalysis } from '../domain/posttrade/analyze.js';
import type { PosttradeStore, StoredFill } from './posttrade-store.js';
import type { RedisKeys } from './redis-keys.js';

/** SET NX the fill and queue it in one step, so a stored fill is always queued (keys share one hash slot). */
const ADD_FILL = `
local prior = redis.call('GET', KEYS[1])
if prior then return prior end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return false
`;

/** Result, its time index and the queue in one step; trims results past retention. */
const SAVE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
return 1
`;

/**
 * Post-trade on Redis. The fill record (POST /fills) is written through `writes`, so with
 * AUDIT_DURABILITY=replica it is on a replica before the fill is answered, like the
 * exposure side of the fill (durable-writes.ts); when it is not, the intake journals the
 * fill. An analysis result is written on `redis` without that wait: it is computed again
 * from the fill, which stays queued until its result is stored (a failover that loses a
 * result loses the dequeue with it, in the same script, and the analysis runs again).
 */
export function createRedisPosttradeStore(
  redis: RedisClient,
  keys: RedisKeys,
  opts: { retentionMs: number; now: () => number; writes?: Pick<DurableWrites, 'write'> },
): PosttradeStore {
  const ttl = String(opts.retentionMs);
  const writes = opts.writes ?? primaryWrites(redis);
  return {
    async addFill(entry) {
      const prior = (await writes.write((conn) => conn.eval(ADD_FILL, 2, keys.posttradeFill(entry.fill.fillId), keys.posttradePending(), JSON.stringify(entry), entry.dueAt, entry.fill.fillId, ttl))) as string | null;
      return prior === null ? null : (JSON.parse(prior) as StoredFill);
    },
    async getFill(id) {
      const raw = await redis.get(keys.posttradeFill(id));
      return raw === null ? null : (JSON.parse(raw) as StoredFill);
    },
    async due(now, limit) {
      return redis.zrangebyscore(keys.posttradePending(), '-inf', now, 'LIMIT', 0, limit);
    },
    async saveAnalysis(a) {
      await redis.eval(
        SAVE,
        3,
        keys.posttradeResult(a.fillId),
        keys.posttradeResults(),
        keys.posttradePending(),
        JSON.stringify(a),
        a.ts,
        a.fillId,
        ttl,
        opts.now() - opts.retentionMs,
      );
    },
    async getAnalysis(id) {
      const raw = await redis.get(keys.posttradeResult(id));
      return raw === null ? null : (JSON.parse(raw) as FillAnalysis);
    },
    async analyses(from, to, limit) {
      const ids = await redis.zrangebyscore(keys.posttradeResults(), from, to, 'LIMIT', 0, limit);
      if (ids.length === 0) return [];
      const raws = await redis.mget(...ids.map((id) => keys.posttradeResult(id)));
      return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as FillAnalysis);
    },
  };
}
