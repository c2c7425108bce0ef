/**
 * The append-only audit log of pre-trade decisions. An entry is one record already
 * serialized as JSON (the gate builds it once, around the JSON of the response it sends).
 * The memory log (below) keeps the newest records; the Redis log (`audit-log.redis.ts`) is a
 * capped stream plus one key per decision for O(1) lookup. Appends are grouped by the
 * caller (AuditWriter, a group commit the reply waits for) and idempotent by decisionId:
 * a record appended twice (a retry, a journal replay) is stored once.
 */
export interface AuditEntry {
  decisionId: string;
  /** The whole record as JSON. */
  json: string;
}

export interface AuditLog {
  /** Appends the entries in order, skipping ids already held; rejects when not everything was written. */
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** The record's JSON for one decision, or null when unknown (or expired / evicted). */
  get(decisionId: string): Promise<string | null>;
  /** Ends what the log holds open of its own (the Redis log's WAIT connection); the shared client stays open. */
  close?(): Promise<void>;
}

/**
 * The most records the memory log keeps, whatever AUDIT_MAX_ENTRIES says (~2 KB a record,
 * so ~20 MB): it is for the demo and tests (production refuses the memory store).
 */
export const MEMORY_AUDIT_MAX_ENTRIES = 10_000;

/** In-memory log keeping the newest `maxEntries` records, oldest evicted first. */
export function createMemoryAuditLog(maxEntries: number): AuditLog & { entries(): AuditEntry[] } {
  // A Map iterates in insertion order: its first key is the oldest record.
  const records = new Map<string, string>();
  return {
    append: async (batch) => {
      for (const r of batch) {
        if (records.has(r.decisionId)) continue; // idempotent by decision id, like the Redis log
        records.set(r.decisionId, r.json);
        if (records.size > maxEntries) records.delete(records.keys().next().value as string);
      }
    },
    get: async (id) => records.get(id) ?? null,
    entries: () => [...records].map(([decisionId, json]) => ({ decisionId, json })),
  };
}
