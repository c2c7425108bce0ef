import type { RedisClient } from './redis-client.js';
import { parseStoredTradingState, type TradingStateSnapshot, type TradingStateStore } from './trading-state-store.js';

/** Hash field of the global setting ("*" cannot be a symbol: symbols are [A-Z0-9]). */
const GLOBAL_FIELD = '*';
/**
 * Hash field of the initialisation marker (who initialised the store, when). In the same
 * hash as the settings, so the settings and the marker vanish together.
 */
export const INITIALISED_FIELD = '#initialised';

/**
 * Trading state on Redis: one hash (field = symbol, or "*" for global; value = the entry
 * as JSON; plus the initialisation marker) and a pub/sub channel announcing changes. Write and announcement go in one
 * MULTI, so no replica hears of a change that was not stored. Every entry is validated
 * on load: an invalid one (written by hand, or by another version) is read as HALTED for
 * its scope and reported to `onInvalid` (field "*" is global).
 */
export function createRedisTradingStateStore(
  redis: RedisClient,
  opts: { hashKey: string; channel: string; onInvalid?: (field: string, stored: string, problem: string) => void },
): TradingStateStore {
  return {
    shared: true,
    load: async () => {
      const all = await redis.hgetall(opts.hashKey);
      const snap: TradingStateSnapshot = { initialised: INITIALISED_FIELD in all, global: null, symbols: {} };
      for (const [field, json] of Object.entries(all)) {
        if (field === INITIALISED_FIELD) continue;
        const { entry, problem } = parseStoredTradingState(json);
        if (problem !== null) opts.onInvalid?.(field, json, problem);
        if (field === GLOBAL_FIELD) snap.global = entry;
        else snap.symbols[field] = entry;
      }
      return snap;
    },
    set: async (symbol, entry) => {
      const field = symbol ?? GLOBAL_FIELD;
      const tx = redis.multi().hset(opts.hashKey, field, JSON.stringify(entry));
      if (symbol === null) {
        tx.hsetnx(opts.hashKey, INITIALISED_FIELD, JSON.stringify({ by: entry.updatedBy, at: entry.updatedAt }));
      }
      const results = await tx.publish(opts.channel, field).exec();
      const failed = results?.find(([err]) => err !== null);
      if (results === null) throw new Error('trading-state transaction was aborted');
      if (failed?.[0]) throw failed[0];
    },
    subscribe: async (listener) => {
      // A subscribed connection can run no other command: use our own, and close it.
      const sub = redis.duplicate();
      sub.on('error', () => {}); // reconnects by itself; the periodic refresh covers the gap
      sub.on('message', (channel: string) => {
        if (channel === opts.channel) listener();
      });
      await sub.subscribe(opts.channel);
      return async () => {
        sub.disconnect();
      };
    },
  };
}
