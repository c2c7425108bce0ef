/**
 * The append-only audit log of pre-trade decisions. Records are plain JSON with a
 * `decisionId`. The memory log is a bounded ring (oldest dropped first); the Redis log
 * (`audit-log.redis.ts`) is a capped stream plus one key per decision for O(1) lookup.
 * Appends are batched by the caller's buffer, never awaited on the response path.
 */
export interface AuditLog<R extends { decisionId: string }> {
  /** Appends the records in order; rejects when nothing (or not everything) was written. */
  append(records: readonly R[]): Promise<void>;
  /** The record for one decision, or null when unknown (or expired / evicted). */
  get(decisionId: string): Promise<R | null>;
}

/** Bounded in-memory log: keeps the newest `maxEntries` records (Map keeps insertion order). */
export function createMemoryAuditLog<R extends { decisionId: string }>(
  maxEntries: number,
): AuditLog<R> & { size(): number; entries(): R[] } {
  const records = new Map<string, R>();
  return {
    append: async (batch) => {
      for (const r of batch) {
        records.set(r.decisionId, r);
        if (records.size > maxEntries) {
          const oldest = records.keys().next();
          if (!oldest.done) records.delete(oldest.value);
        }
      }
    },
    get: async (id) => records.get(id) ?? null,
    size: () => records.size,
    entries: () => [...records.values()],
  };
}
