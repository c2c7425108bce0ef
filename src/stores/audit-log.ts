/**
 * The append-only audit log of pre-trade decisions. An entry is one record already
 * serialized as JSON (the gate builds it once, around the JSON of the response it sends).
 * The memory log (below) is a bounded ring; the Redis log (`audit-log.redis.ts`) is a
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
}

/** Default byte budget of the memory ring: ~2 KB a record, so ~60k records. */
export const MEMORY_AUDIT_BYTES = 128 * 1024 * 1024;

/**
 * Bounded in-memory log keeping the newest records, at most `maxEntries` of them and at
 * most `maxBytes` of UTF-8 in total, oldest evicted first. Records live as bytes in one
 * preallocated circular buffer, off the JS heap: holding 100k records as JS strings made
 * every major GC trace them and cut the gate's throughput by a third to a half once the
 * ring was full (measured with `npm run bench:pretrade`); here the heap holds only a small
 * index entry per record.
 */
export function createMemoryAuditLog(
  maxEntries: number,
  maxBytes: number = MEMORY_AUDIT_BYTES,
): AuditLog & { size(): number; entries(): AuditEntry[] } {
  // Allocated on first append (untouched pages cost nothing, but tests build many apps).
  let buf: Buffer | null = null;
  let head = 0; // next write offset
  // Live records, oldest first: parallel arrays from `first`. The record at array position
  // p has sequence number `base + p`; the index maps a decision id to that number, so a
  // record costs the heap its id and two small numbers, no object of its own.
  const index = new Map<string, number>();
  let ids: string[] = [];
  let starts: number[] = [];
  let lens: number[] = [];
  let first = 0;
  let base = 0;

  const evictOldest = (): void => {
    const id = ids[first];
    if (id !== undefined) index.delete(id);
    first += 1;
    if (first > 1_024 && first * 2 > ids.length) {
      ids = ids.slice(first);
      starts = starts.slice(first);
      lens = lens.slice(first);
      base += first;
      first = 0;
    }
  };
  const live = (): number => ids.length - first;
  const oldestStart = (): number => starts[first] ?? -1;

  /** Frees room for `len` bytes and returns where to write them. */
  const reserve = (len: number, cap: number): number => {
    let at = head;
    if (at + len > cap) {
      // Wrap: the records between the head and the end are the oldest; drop them.
      while (live() > 0 && oldestStart() >= head) evictOldest();
      at = 0;
    }
    const end = at + len;
    // The oldest records now sit just past `at`: drop those the new bytes overlap.
    while (live() > 0 && oldestStart() >= at && oldestStart() < end) evictOldest();
    head = end;
    return at;
  };

  const put = (r: AuditEntry): void => {
    if (index.has(r.decisionId)) return; // idempotent by decision id, like the Redis log
    const len = Buffer.byteLength(r.json);
    if (len > maxBytes) return; // cannot hold it at all (a record is ~2 KB)
    buf ??= Buffer.allocUnsafe(maxBytes);
    while (live() >= maxEntries) evictOldest();
    const at = reserve(len, maxBytes);
    buf.write(r.json, at, len, 'utf8');
    index.set(r.decisionId, base + ids.length);
    ids.push(r.decisionId);
    starts.push(at);
    lens.push(len);
  };

  const read = (id: string): string | null => {
    const seq = index.get(id);
    if (seq === undefined || !buf) return null;
    const p = seq - base;
    const start = starts[p] ?? 0;
    return buf.toString('utf8', start, start + (lens[p] ?? 0));
  };

  return {
    append: async (batch) => {
      for (const r of batch) put(r);
    },
    get: async (id) => read(id),
    size: () => live(),
    entries: () => ids.slice(first).map((decisionId) => ({ decisionId, json: read(decisionId) ?? '' })),
  };
}
