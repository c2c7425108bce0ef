import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { RedisClient } from './redis-client.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import { primaryWrites, replicaWrites } from './durable-writes.js';

/**
 * Inserts a group of records, each once. Per record: when its index key
 * `decision:<id>` does not exist, `XADD` the record to the stream and set the index key
 * to the new entry's id (PX = the lookup window). A group written twice (a reply lost
 * after the write, a group also journaled and replayed) adds nothing the second time.
 * One script, so a group is all or nothing.
 * KEYS: stream, then one index key per record; ARGV: maxLen ('0': no trim here, the
 * archiver trims), ttl, then id, record pairs.
 */
const INSERT = `
local added = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local sid
    if ARGV[1] == '0' then
      sid = redis.call('XADD', KEYS[1], '*', 'decisionId', ARGV[2 * i - 1], 'z', ARGV[2 * i])
    else
      sid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'decisionId', ARGV[2 * i - 1], 'z', ARGV[2 * i])
    end
    redis.call('SET', KEYS[i], sid, 'PX', ARGV[2])
    added = added + 1
  end
end
return added`;

/**
 * The preset dictionary records are compressed with (field `z`): the record's keys and
 * common values, so a ~1.1 KB record stores in about half of that. Changing it would
 * make stored records unreadable: a new dictionary needs a new field name.
 */
const DICTIONARY = Buffer.from(
  '{"decisionId":"","evaluatedAt":"2026-01-01T00:00:00.000Z","keyId":"","instanceId":"","request":{"symbol":"BTCUSDT","side":"buy",' +
    '"quantity":1,"orderType":"market","price":null,"leverage":null,"reduceOnly":false,"accountId":null,"clientOrderId":null},' +
    '"decision":{"decisionId":"","evaluatedAt":"2026-01-01T00:00:00.000Z","validUntil":"2026-01-01T00:00:00.000Z","symbol":"ETHUSDT",' +
    '"side":"sell","clientOrderId":null,"decision":"APPROVE","decision":"RESIZE","decision":"REJECT","requestedQuantity":1,' +
    '"approvedQuantity":0,"requestedNotional":0,"approvedNotional":0,"reasons":[{"code":"","message":"","limit":null,"observed":null}],' +
    '"warnings":[],"riskScore":0,"nearestCluster":{"side":"long","peakPrice":0,"distanceBps":0,"notionalUsd":0,"major":false},' +
    '"expectedSlippageBps":null,"maxSafeLeverage":null,"timeOfDayMultiplier":1,"heatmapAsOf":"2026-01-01T00:00:00.000Z",' +
    '"heatmapAgeMs":0,"heatmapVersion":0,"source":"sim","policyVersion":"sha256:"},"heatmapVersion":0,"policyVersion":"sha256:"}',
);

export function compressRecord(json: string): Buffer {
  return deflateRawSync(json, { dictionary: DICTIONARY });
}

/** A stream entry's fields (as returned by XRANGE/XREADGROUP with buffers) as a record. */
export function recordFromFields(fields: Buffer[]): AuditEntry | null {
  let decisionId: string | null = null;
  let json: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]?.toString();
    const value = fields[i + 1] as Buffer;
    if (name === 'decisionId') decisionId = value.toString();
    else if (name === 'z') json = inflateRawSync(value, { dictionary: DICTIONARY }).toString();
    else if (name === 'record') json = value.toString(); // written by an earlier version
  }
  return decisionId !== null && json !== null ? { decisionId, json } : null;
}

/** How an audit group counts as durable (AUDIT_DURABILITY). */
export type AuditDurability =
  /** Acknowledged by the primary: durable as its AOF setting makes it (`appendfsync always` in deploy/redis). */
  | { mode: 'primary' }
  /** Also acknowledged by `replicas` replicas within `timeoutMs` (WAIT); otherwise the group goes to the journal. */
  | { mode: 'replica'; replicas: number; timeoutMs: number };

/**
 * Audit log on Redis: a stream of records (compressed, field `z`) plus one small index key
 * per record, `decision:<id>` = the record's stream entry id, kept for the lookup window
 * (DECISION_LOOKUP_TTL_MS): GET /decisions/:id is GET + XRANGE id id. Inserted once per
 * decisionId (INSERT above). `maxLen` 0: the stream is not trimmed on insert; the
 * archiver (audit-archiver.ts) trims only what it has archived and what is past the
 * lookup window. Otherwise `XADD MAXLEN ~ maxLen` (no archive configured).
 *
 * In `replica` mode the log writes on its own connection and WAITs there
 * (durable-writes.ts). `close()` ends that connection.
 */
export function createRedisAuditLog(
  redis: RedisClient,
  opts: {
    streamKey: string;
    decisionKey: (id: string) => string;
    /** Where an earlier version kept the whole record, read when there is no index key. */
    legacyDecisionKey?: (id: string) => string;
    maxLen: number;
    decisionTtlMs: number;
    durability?: AuditDurability;
  },
): AuditLog & { close(): Promise<void> } {
  const durability = opts.durability ?? { mode: 'primary' };
  // Its own instance: an audit group's WAIT does not queue behind the exposure writes'.
  const writes = durability.mode === 'replica' ? replicaWrites(redis, durability) : primaryWrites(redis);
  return {
    append: async (batch) => {
      if (batch.length === 0) return;
      const keys = [opts.streamKey];
      const args: (string | number | Buffer)[] = [opts.maxLen, opts.decisionTtlMs];
      for (const r of batch) {
        keys.push(opts.decisionKey(r.decisionId));
        args.push(r.decisionId, compressRecord(r.json));
      }
      await writes.write((conn) => conn.eval(INSERT, keys.length, ...keys, ...args));
    },
    get: async (id) => {
      const at = (await redis.get(opts.decisionKey(id))) ?? (opts.legacyDecisionKey ? await redis.get(opts.legacyDecisionKey(id)) : null);
      if (at === null) return null;
      if (at.startsWith('{')) return at; // a lookup key written by an earlier version: the record itself
      const entries = await redis.xrangeBuffer(opts.streamKey, at, at);
      const fields = entries[0]?.[1];
      return fields ? (recordFromFields(fields)?.json ?? null) : null;
    },
    close: () => writes.close(),
  };
}
