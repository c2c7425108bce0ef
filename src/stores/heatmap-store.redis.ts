import type { RedisClient } from './redis-client.js';
import type { Logger } from 'pino';
import { withTimeout } from '../lib/async.js';
import type { HeatmapSnapshot, HeatmapStore, NewHeatmapSnapshot, PutResult } from './heatmap-store.js';
import type { HistoryOptions } from './heatmap-store.memory.js';
import type { RedisKeys } from './redis-keys.js';
import { assertWritableSnapshot, checkStoredJson } from './heatmap-snapshot-schema.js';

const DOWN = new Set(['reconnecting', 'close', 'end']);

/**
 * Fails at once when the connection is known to be down, instead of waiting in ioredis's
 * offline queue (while it is first connecting, callers wait, bounded by withTimeout).
 */
export function ensureReady(redis: RedisClient): void {
  if (DOWN.has(redis.status)) throw new Error(`redis is not connected (${redis.status})`);
}

/*
 * One atomic write. KEYS: latest, history, version, fence.
 * ARGV: body (snapshot JSON without its opening "{"), asOf, fencing token or "",
 * history interval ms, retention ms, max history entries, channel, symbol.
 * The version is spliced into the JSON here rather than through cjson, which would
 * round prices to 14 significant digits.
 */
const PUT = `
local token = ARGV[3]
if token ~= '' then
  local fence = tonumber(redis.call('GET', KEYS[4]) or '0')
  local t = tonumber(token)
  if t < fence then return {0, tonumber(redis.call('GET', KEYS[3]) or '0')} end
  if t > fence then redis.call('SET', KEYS[4], token) end
end
local v = redis.call('INCR', KEYS[3])
local doc = '{"version":' .. v .. ',' .. ARGV[1]
redis.call('SET', KEYS[1], doc)
local asOf = tonumber(ARGV[2])
local last = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if (last[2] == nil) or (asOf - tonumber(last[2]) >= tonumber(ARGV[4])) then
  redis.call('ZADD', KEYS[2], ARGV[2], doc)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', asOf - tonumber(ARGV[5])))
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[6]) + 1))
end
redis.call('PUBLISH', ARGV[7], ARGV[8] .. ' ' .. v)
return {1, v}`;

export interface RedisHeatmapStoreOptions {
  /** A connected client; the store does not close it (its creator does). */
  redis: RedisClient;
  keys: RedisKeys;
  history: HistoryOptions;
  logger?: Logger;
  /** Upper bound on one command; ping and writes fail after it rather than hang. */
  commandTimeoutMs?: number;
}

/**
 * Heatmaps in Redis: the latest snapshot as one JSON string per symbol, a version counter,
 * a fence holding the largest fencing token that wrote, and a sorted set of past snapshots
 * scored by asOf. Every accepted write is announced on one channel as "<symbol> <version>";
 * the subscription uses its own duplicate() connection, which ioredis resubscribes after
 * a reconnect.
 */
export function createRedisHeatmapStore(opts: RedisHeatmapStoreOptions): HeatmapStore {
  const { redis, keys, history } = opts;
  const timeoutMs = opts.commandTimeoutMs ?? 2_000;
  const listeners = new Set<(symbol: string, version: number) => void>();
  let subscriber: RedisClient | null = null;
  let subscribing: Promise<void> | null = null;

  /** A stored document that fails validation is logged and treated as missing: never served, never gated on. */
  const parse = (json: string | null, where: string): HeatmapSnapshot | null => {
    if (json === null) return null;
    const r = checkStoredJson(json);
    if (r.ok) return r.snapshot;
    opts.logger?.error({ key: where, problem: r.problem }, 'invalid heatmap snapshot in Redis; treated as missing');
    return null;
  };

  const run = <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    ensureReady(redis);
    return withTimeout(fn(), timeoutMs, `redis ${what}`);
  };

  /** One MULTI: the newest history entry at or before each instant, and the latest. */
  const getAtMany = async (symbol: string, atMs: readonly number[]): Promise<(HeatmapSnapshot | null)[]> => {
      const [hists, latestJson] = await run('getAt', async () => {
        const m = redis.multi();
        for (const t of atMs) m.zrevrangebyscore(keys.heatmapHistory(symbol), Math.floor(t), '-inf', 'LIMIT', 0, 1);
        m.get(keys.heatmapLatest(symbol));
        const res = await m.exec();
        if (!res) throw new Error('getAt transaction aborted');
        for (const [err] of res) if (err) throw err;
        return [res.slice(0, atMs.length).map((r) => (r[1] as string[])[0] ?? null), res[atMs.length]![1] as string | null] as const;
      });
      const latest = parse(latestJson, keys.heatmapLatest(symbol));
      return atMs.map((t, i) => {
        const fromHistory = parse(hists[i] ?? null, keys.heatmapHistory(symbol));
        if (latest && latest.asOf <= t && (!fromHistory || latest.asOf >= fromHistory.asOf)) return latest;
        return fromHistory;
      });
    };

  const onMessage = (channel: string, message: string) => {
    if (channel !== keys.heatmapChannel()) return;
    const space = message.lastIndexOf(' ');
    const symbol = message.slice(0, space);
    const version = Number(message.slice(space + 1));
    if (space <= 0 || !Number.isFinite(version)) return;
    for (const l of [...listeners]) {
      try {
        l(symbol, version);
      } catch (err) {
        opts.logger?.error({ err }, 'heatmap listener failed');
      }
    }
  };

  const ensureSubscribed = (): Promise<void> => {
    if (!subscribing) {
      const sub = redis.duplicate();
      subscriber = sub;
      sub.on('message', onMessage);
      sub.on('error', (err: Error) => opts.logger?.warn({ err: err.message }, 'heatmap subscriber connection error'));
      subscribing = sub.subscribe(keys.heatmapChannel()).then(() => undefined);
      subscribing.catch(() => {
        subscribing = null;
      });
    }
    return subscribing;
  };

  return {
    async getLatest(symbol) {
      const key = keys.heatmapLatest(symbol);
      return parse(await run('get', () => redis.get(key)), key);
    },
    async put(snapshot: NewHeatmapSnapshot, putOpts): Promise<PutResult> {
      assertWritableSnapshot(snapshot);
      // A caller may pass a full snapshot: its old version must not survive next to the new one.
      const body = JSON.stringify({ ...snapshot, version: undefined });
      const token = putOpts?.fencingToken;
      const r = (await run('put', () =>
        redis.eval(
          PUT,
          4,
          keys.heatmapLatest(snapshot.symbol),
          keys.heatmapHistory(snapshot.symbol),
          keys.heatmapVersion(snapshot.symbol),
          keys.heatmapFence(snapshot.symbol),
          body.slice(1),
          String(Math.round(snapshot.asOf)),
          token === undefined ? '' : String(token),
          history.intervalMs,
          history.retentionMs,
          history.maxEntries,
          keys.heatmapChannel(),
          snapshot.symbol,
        ),
      )) as [number, number];
      return { accepted: r[0] === 1, version: Number(r[1]) };
    },
    async getAt(symbol, atMs) {
      return (await getAtMany(symbol, [atMs]))[0] ?? null;
    },
    getAtMany,

    async subscribe(listener) {
      listeners.add(listener);
      try {
        await ensureSubscribed();
      } catch (err) {
        listeners.delete(listener);
        throw err;
      }
      return async () => {
        listeners.delete(listener);
      };
    },
    async ping() {
      await run('ping', () => redis.ping());
    },
    async close() {
      listeners.clear();
      const sub = subscriber;
      subscriber = null;
      subscribing = null;
      if (sub) {
        try {
          await withTimeout(sub.quit(), timeoutMs, 'redis subscriber quit');
        } catch {
          sub.disconnect();
        }
      }
    },
  };
}
