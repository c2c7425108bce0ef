import type { Redis } from 'ioredis';
import type { AuditLog } from './audit-log.js';

/**
 * Audit log on Redis: each batch is one MULTI with, per record, `XADD stream MAXLEN ~ N`
 * (fields `decisionId` and `record`, the JSON) and `SET decision:<id> json PX ttl` for
 * GET /decisions/:id. MULTI makes a batch all-or-nothing, so a retried batch duplicates
 * stream entries only when the reply (not the write) was lost: delivery is at least
 * once, and readers dedupe on `decisionId`.
 */
export function createRedisAuditLog(
  redis: Redis,
  opts: { streamKey: string; decisionKey: (id: string) => string; maxLen: number; decisionTtlMs: number },
): AuditLog {
  return {
    append: async (batch) => {
      if (batch.length === 0) return;
      const tx = redis.multi();
      for (const r of batch) {
        tx.xadd(opts.streamKey, 'MAXLEN', '~', opts.maxLen, '*', 'decisionId', r.decisionId, 'record', r.json);
        tx.set(opts.decisionKey(r.decisionId), r.json, 'PX', opts.decisionTtlMs);
      }
      const results = await tx.exec();
      if (results === null) throw new Error('audit transaction was aborted');
      const failed = results.find(([err]) => err !== null);
      if (failed?.[0]) throw failed[0];
    },
    get: (id) => redis.get(opts.decisionKey(id)),
  };
}
