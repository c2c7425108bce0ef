import type { RedisClient } from '../../stores/redis-client.js';
import type { RedisKeys } from '../../stores/redis-keys.js';
import { ensureReady } from '../../stores/heatmap-store.redis.js';
import { withTimeout } from '../../lib/async.js';
import type { PollerStatus } from './poller.js';

/**
 * Where the polling replica posts each symbol's poll status so that /symbols on any
 * replica shows the leader's view (last success, errors, breakers), not only its own.
 * Best effort: a failed write or read only makes the status older.
 */
export interface StatusBoard {
  post(symbol: string, status: PollerStatus): void;
  read(symbols: string[]): Promise<Map<string, PollerStatus>>;
}

export const localStatusBoard: StatusBoard = {
  post: () => {},
  read: async () => new Map(),
};

export function redisStatusBoard(redis: RedisClient, keys: RedisKeys, ttlMs: number): StatusBoard {
  return {
    post(symbol, status) {
      try {
        ensureReady(redis);
        void withTimeout(redis.set(keys.symbolStatus(symbol), JSON.stringify(status), 'PX', ttlMs), 2_000, 'status post').catch(() => undefined);
      } catch {
        // Redis is down: the status on other replicas will simply expire.
      }
    },
    async read(symbols) {
      const out = new Map<string, PollerStatus>();
      if (symbols.length === 0) return out;
      ensureReady(redis);
      // One GET per symbol, not MGET: each symbol's key has its own hash tag, so on a Cluster
      // they live on different nodes (ioredis pipelines the GETs per node).
      const values = await withTimeout(Promise.all(symbols.map((s) => redis.get(keys.symbolStatus(s)))), 2_000, 'status read');
      values.forEach((v, i) => {
        if (v) out.set(symbols[i]!, JSON.parse(v) as PollerStatus);
      });
      return out;
    },
  };
}
