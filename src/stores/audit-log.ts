/**
 * The append-only audit log of pre-trade decisions. An entry is one record already
 * serialized as JSON (the gate builds it once, around the JSON of the response it sends):
 * a ring of strings costs the garbage collector almost nothing to hold, where 100k live
 * object graphs halved the gate's throughput (measured with `npm run bench:pretrade`).
 * The memory log is a bounded ring (oldest dropped first); the Redis log
 * (`audit-log.redis.ts`) is a capped stream plus one key per decision for O(1) lookup.
 * Appends are batched by the caller's buffer, never awaited on the response path.
 */
export interface AuditEntry {
  decisionId: string;
  /** The whole record as JSON. */
  json: string;
}

export interface AuditLog {
  /** Appends the entries in order; rejects when nothing (or not everything) was written. */
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** The record's JSON for one decision, or null when unknown (or expired / evicted). */
  get(decisionId: string): Promise<string | null>;
}

/** Bounded in-memory log: keeps the newest `maxEntries` records (Map keeps insertion order). */
export function createMemoryAuditLog(maxEntries: number): AuditLog & { size(): number; entries(): AuditEntry[] } {
  const records = new Map<string, string>();
  return {
    append: async (batch) => {
      for (const r of batch) {
        records.set(r.decisionId, r.json);
        if (records.size > maxEntries) {
          const oldest = records.keys().next();
          if (!oldest.done) records.delete(oldest.value);
        }
      }
    },
    get: async (id) => records.get(id) ?? null,
    size: () => records.size,
    entries: () => [...records].map(([decisionId, json]) => ({ decisionId, json })),
  };
}
