import type { StoredSnapshot } from './heatmap-snapshot-schema.js';

/** What the poller publishes per symbol and every replica serves from memory (its schema: StoredSnapshotSchema). */
export type HeatmapSnapshot = StoredSnapshot;

export type NewHeatmapSnapshot = Omit<HeatmapSnapshot, 'version'>;

export interface PutResult {
  /** False when the write was fenced off (a newer fencing token has written since). */
  accepted: boolean;
  version: number;
}

/**
 * Latest heatmap per symbol, a bounded history, and change announcements.
 * Implemented by `heatmap-store.memory.ts` and `heatmap-store.redis.ts`; both pass
 * `test/stores/heatmap-store.contract.ts`.
 */
export interface HeatmapStore {
  getLatest(symbol: string): Promise<HeatmapSnapshot | null>;
  /**
   * Writes a new latest snapshot and appends it to history. With a fencing token, the
   * write is refused when a larger token has already written for this symbol, so a slow
   * old leader cannot overwrite a newer map.
   */
  put(snapshot: NewHeatmapSnapshot, opts?: { fencingToken?: number }): Promise<PutResult>;
  /** The newest snapshot with asOf <= atMs still in history, or null. */
  getAt(symbol: string, atMs: number): Promise<HeatmapSnapshot | null>;
  /** `getAt` for each instant, in one round trip (the heatmap page's time columns). */
  getAtMany(symbol: string, atMs: readonly number[]): Promise<(HeatmapSnapshot | null)[]>;
  /** Called with (symbol, version) after every accepted put, on every replica. Returns an unsubscribe. */
  subscribe(listener: (symbol: string, version: number) => void): Promise<() => Promise<void>>;
  /** Throws when the backend does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
