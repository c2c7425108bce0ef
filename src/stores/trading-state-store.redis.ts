import { primaryWrites, type DurableWrites } from './durable-writes.js';
import type { RedisClient } from './redis-client.js';
import { parseStoredTradingState, type TradingStateSnapshot, type TradingStateStore } from './trading-state-store.js';

/** Hash field of the global setting ("*" cannot be a symbol: symbols are [A-Z0-9]). */
const GLOBAL_FIELD = '*';
/**
 * Hash field of the initialisation marker (who initialised the store, when). In the same
 * hash as the settings, so the settings and the marker vanish together.
 */
export const INITIALISED_FIELD = '#initialised';
/** Hash field of the version every `set` bumps (in the same MULTI as the write). */
export const VERSION_FIELD = '#version';

/** Milliseconds on the Redis clock, so replicas' clocks need not agree. */
const NOW_MS = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";
/** KEYS[1] applied hash; ARGV replica, version, key TTL ms. Value "<version>:<Redis ms>". */
const ACK = `${NOW_MS}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;
/** KEYS[1] applied hash; ARGV live ms. Drops older acknowledgements, returns [replica, version, …]. */
const LIVE_ACKS = `${NOW_MS}
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local v, at = string.match(all[i + 1], '^(%d+):(%d+)$')
  if at == nil or tonumber(at) < now - tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], all[i])
  else
    table.insert(out, all[i])
    table.insert(out, v)
  end
end
return out`;

/**
 * Trading state on Redis: one hash (field = symbol, or "*" for global; value = the entry
 * as JSON; plus the initialisation marker and a version) and a pub/sub channel announcing changes. Write and announcement go in one
 * MULTI, so no replica hears of a change that was not stored. Every entry is validated
 * on load: an invalid one (written by hand, or by another version) is read as HALTED for
 * its scope and reported to `onInvalid` (field "*" is global). Each replica acknowledges the
 * version it applies in a second hash, stamped with Redis's clock, so a writer can tell
 * which live replicas applied its change.
 */
export function createRedisTradingStateStore(
  redis: RedisClient,
  opts: {
    hashKey: string;
    channel: string;
    /** Hash of replica → the version it applies (with a Redis timestamp: its heartbeat). */
    appliedKey: string;
    onInvalid?: (field: string, stored: string, problem: string) => void;
    /** Where a setting is written and how it is made durable (default: the primary's acknowledgement). */
    writes?: DurableWrites;
  },
): TradingStateStore {
  const writes = opts.writes ?? primaryWrites(redis);
  /** The applied hash outlives its last writer by this much (a replica acknowledges every refresh). */
  const appliedKeyTtlMs = 3_600_000;
  return {
    shared: true,
    load: async () => {
      const all = await redis.hgetall(opts.hashKey);
      const snap: TradingStateSnapshot = {
        initialised: INITIALISED_FIELD in all,
        version: Number(all[VERSION_FIELD] ?? 0) || 0,
        global: null,
        symbols: {},
      };
      for (const [field, json] of Object.entries(all)) {
        if (field === INITIALISED_FIELD || field === VERSION_FIELD) continue;
        const { entry, problem } = parseStoredTradingState(json);
        if (problem !== null) opts.onInvalid?.(field, json, problem);
        if (field === GLOBAL_FIELD) snap.global = entry;
        else snap.symbols[field] = entry;
      }
      return snap;
    },
    set: async (symbol, entry) => {
      const field = symbol ?? GLOBAL_FIELD;
      const results = await writes.write((conn) => {
        const tx = conn.multi().hset(opts.hashKey, field, JSON.stringify(entry));
        if (symbol === null) {
          tx.hsetnx(opts.hashKey, INITIALISED_FIELD, JSON.stringify({ by: entry.updatedBy, at: entry.updatedAt }));
        }
        return tx.hincrby(opts.hashKey, VERSION_FIELD, 1).publish(opts.channel, field).exec();
      });
      const failed = results?.find(([err]) => err !== null);
      if (results === null) throw new Error('trading-state transaction was aborted');
      if (failed?.[0]) throw failed[0];
      return Number(results[results.length - 2]?.[1]);
    },
    acknowledge: async (replica, version) => {
      await redis.eval(ACK, 1, opts.appliedKey, replica, String(version), String(appliedKeyTtlMs));
    },
    acknowledgements: async (liveMs) => {
      const flat = (await redis.eval(LIVE_ACKS, 1, opts.appliedKey, String(Math.round(liveMs)))) as string[];
      const out = [];
      for (let i = 0; i < flat.length; i += 2) out.push({ replica: String(flat[i]), version: Number(flat[i + 1]) });
      return out;
    },
    subscribe: async (listener) => {
      // A subscribed connection can run no other command: use our own, and close it.
      const sub = redis.duplicate();
      sub.on('error', () => {}); // reconnects by itself; the periodic refresh covers the gap
      sub.on('message', (channel: string) => {
        if (channel === opts.channel) listener();
      });
      try {
        await sub.subscribe(opts.channel);
      } catch (err) {
        sub.disconnect(); // not left reconnecting for ever
        throw err;
      }
      // ioredis re-subscribes after a reconnect; announcements made meanwhile were lost, so
      // reload then rather than wait for the next periodic refresh.
      sub.on('ready', () => listener());
      return async () => {
        sub.disconnect();
      };
    },
  };
}
