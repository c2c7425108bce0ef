import type { HeatmapSnapshot, HeatmapStore, NewHeatmapSnapshot, PutResult } from './heatmap-store.js';

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

interface SymbolState {
  version: number;
  fence: number;
  latest: HeatmapSnapshot | null;
  /** Ascending by asOf. */
  history: HeatmapSnapshot[];
}

/** Newest entry with asOf <= at in an ascending list (binary search). */
function newestAtOrBefore(list: HeatmapSnapshot[], at: number): HeatmapSnapshot | null {
  let lo = 0;
  let hi = list.length - 1;
  let found: HeatmapSnapshot | null = null;
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
 * store, listeners called directly. Snapshots are copied in and out through JSON so
 * callers cannot mutate what is stored, exactly as with Redis.
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
  const copy = (s: HeatmapSnapshot | null): HeatmapSnapshot | null => (s ? (JSON.parse(JSON.stringify(s)) as HeatmapSnapshot) : null);

  return {
    async getLatest(symbol) {
      return copy(symbols.get(symbol)?.latest ?? null);
    },
    async put(snapshot: NewHeatmapSnapshot, opts): Promise<PutResult> {
      if (closed) throw new Error('heatmap store is closed');
      const s = stateOf(snapshot.symbol);
      const token = opts?.fencingToken;
      if (token !== undefined) {
        if (token < s.fence) return { accepted: false, version: s.version };
        s.fence = token;
      }
      s.version += 1;
      const stored = JSON.parse(JSON.stringify({ version: s.version, ...snapshot })) as HeatmapSnapshot;
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
      const s = symbols.get(symbol);
      if (!s) return null;
      const fromHistory = newestAtOrBefore(s.history, atMs);
      const latest = s.latest && s.latest.asOf <= atMs ? s.latest : null;
      if (latest && (!fromHistory || latest.asOf >= fromHistory.asOf)) return copy(latest);
      return copy(fromHistory);
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
