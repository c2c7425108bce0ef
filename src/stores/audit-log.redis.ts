import type { Redis } from 'ioredis';
import type { AuditLog } from './audit-log.js';

/**
 * Inserts a group of records, each once: `SET decision:<id> json NX PX ttl` and, only when
 * that key was new, `XADD stream MAXLEN ~ N * decisionId <id> record <json>`. A group that
 * is written twice (a reply lost after the write, a group also journaled and replayed)
 * adds nothing the second time. One script, so a group is all or nothing.
 * KEYS: stream, then one decision key per record; ARGV: maxLen, ttl, then id, json pairs.
 */
const INSERT = `
local added = 0
for i = 2, #KEYS do
  local id = ARGV[2 * i - 1]
  local json = ARGV[2 * i]
  if redis.call('SET', KEYS[i], json, 'NX', 'PX', ARGV[2]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'decisionId', id, 'record', json)
    added = added + 1
  end
end
return added`;

/** How an audit group counts as durable (AUDIT_DURABILITY). */
export type AuditDurability =
  /** Acknowledged by the primary: durable as its AOF setting makes it (`appendfsync always` in deploy/redis). */
  | { mode: 'primary' }
  /** Also acknowledged by `replicas` replicas within `timeoutMs` (WAIT); otherwise the group goes to the journal. */
  | { mode: 'replica'; replicas: number; timeoutMs: number };

/**
 * Audit log on Redis: a capped stream of records plus one `decision:<id>` key per record
 * for GET /decisions/:id, inserted idempotently by decisionId (INSERT above).
 *
 * In `replica` mode the log uses its own connection: WAIT blocks the connection it is
 * sent on until the replicas acknowledge, which would hold every other command of the
 * service behind it. `close()` ends that connection.
 */
export function createRedisAuditLog(
  redis: Redis,
  opts: {
    streamKey: string;
    decisionKey: (id: string) => string;
    maxLen: number;
    decisionTtlMs: number;
    durability?: AuditDurability;
  },
): AuditLog & { close(): Promise<void> } {
  const durability = opts.durability ?? { mode: 'primary' };
  const conn = durability.mode === 'replica' ? redis.duplicate() : redis;
  if (conn !== redis) conn.on('error', () => {}); // the shared client logs connection errors
  return {
    append: async (batch) => {
      if (batch.length === 0) return;
      const keys = [opts.streamKey];
      const args: (string | number)[] = [opts.maxLen, opts.decisionTtlMs];
      for (const r of batch) {
        keys.push(opts.decisionKey(r.decisionId));
        args.push(r.decisionId, r.json);
      }
      await conn.eval(INSERT, keys.length, ...keys, ...args);
      if (durability.mode === 'replica') {
        const acked = Number(await conn.wait(durability.replicas, durability.timeoutMs));
        if (acked < durability.replicas) {
          throw new Error(`audit group acknowledged by ${acked} of ${durability.replicas} replicas within ${durability.timeoutMs} ms`);
        }
      }
    },
    get: (id) => redis.get(opts.decisionKey(id)),
    close: async () => {
      if (conn !== redis) await conn.quit().catch(() => conn.disconnect());
    },
  };
}
