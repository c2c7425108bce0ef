import type { HeatmapSnapshot, HeatmapStore, NewHeatmapSnapshot, PutResult } from './heatmap-store.js';
import { assertWritableSnapshot } from './heatmap-snapshot-schema.js';

export interface HistoryOptions {
  /** History keeps snapshots whose asOf is within this of the newest one. */
  retentionMs: number;
  /** At most one history entry per this interval per symbol. */
  intervalMs: number;
  /** Hard cap on entries per symbol, whatever the timestamps say. */
  maxEntries: number;
}

/** The cap that fits the retention at the interval, with one spare. */
export function historyMaxEntries(retentionMs: number, intervalMs: number): number {
  return Math.ceil(retentionMs / intervalMs) + 1;
}

/** A stored snapshot: kept as JSON (a day of history is ~1,440 maps per symbol; strings are compact and immutable). */
interface Stored {
  asOf: number;
  json: string;
}

interface SymbolState {
  version: number;
  fence: number;
  latest: Stored | null;
  /** Ascending by asOf. */
  history: Stored[];
}

/** Newest entry with asOf <= at in an ascending list (binary search). */
function newestAtOrBefore(list: Stored[], at: number): Stored | null {
  let lo = 0;
  let hi = list.length - 1;
  let found: Stored | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = list[mid]!;
    if (s.asOf <= at) {
      found = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The in-process store (single replica, demo and tests): same semantics as the Redis
 * store, listeners called directly. Snapshots are stored as JSON, so callers cannot
 * mutate what is stored, exactly as with Redis.
 */
export function createMemoryHeatmapStore(history: HistoryOptions): HeatmapStore {
  const symbols = new Map<string, SymbolState>();
  const listeners = new Set<(symbol: string, version: number) => void>();
  let closed = false;
  const stateOf = (symbol: string): SymbolState => {
    let s = symbols.get(symbol);
    if (!s) {
      s = { version: 0, fence: 0, latest: null, history: [] };
      symbols.set(symbol, s);
    }
    return s;
  };
  const load = (s: Stored | null): HeatmapSnapshot | null => (s ? (JSON.parse(s.json) as HeatmapSnapshot) : null);
  const storedAt = (symbol: string, atMs: number): Stored | null => {
    const s = symbols.get(symbol);
    if (!s) return null;
    const fromHistory = newestAtOrBefore(s.history, atMs);
    const latest = s.latest && s.latest.asOf <= atMs ? s.latest : null;
    return latest && (!fromHistory || latest.asOf >= fromHistory.asOf) ? latest : fromHistory;
  };

  return {
    async getLatest(symbol) {
      return load(symbols.get(symbol)?.latest ?? null);
    },
    async put(snapshot: NewHeatmapSnapshot, opts): Promise<PutResult> {
      if (closed) throw new Error('heatmap store is closed');
      // The write hop's one check, as in the Redis store: reads then need none.
      assertWritableSnapshot(snapshot);
      const s = stateOf(snapshot.symbol);
      const token = opts?.fencingToken;
      if (token !== undefined) {
        if (token < s.fence) return { accepted: false, version: s.version };
        s.fence = token;
      }
      s.version += 1;
      const stored: Stored = { asOf: snapshot.asOf, json: JSON.stringify({ ...snapshot, version: s.version }) };
      s.latest = stored;
      const last = s.history[s.history.length - 1];
      if (!last || stored.asOf - last.asOf >= history.intervalMs) {
        s.history.push(stored);
        const cutoff = stored.asOf - history.retentionMs;
        let drop = 0;
        while (drop < s.history.length && s.history[drop]!.asOf < cutoff) drop += 1;
        drop = Math.max(drop, s.history.length - history.maxEntries);
        if (drop > 0) s.history.splice(0, drop);
      }
      for (const l of [...listeners]) {
        try {
          l(snapshot.symbol, s.version);
        } catch {
          // A listener's fault is its own; the write has happened.
        }
      }
      return { accepted: true, version: s.version };
    },
    async getAt(symbol, atMs) {
      return load(storedAt(symbol, atMs));
    },
    async getAtMany(symbol, atMs) {
      return atMs.map((t) => load(storedAt(symbol, t)));
    },
    async subscribe(listener) {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
    async ping() {
      if (closed) throw new Error('heatmap store is closed');
    },
    async close() {
      closed = true;
      listeners.clear();
    },
  };
}
