import type { Cluster } from '../domain/heatmap/types.js';
import type { BufferMap } from '../domain/pretrade/facts.js';
import type { Fill, FillAnalysis } from '../domain/posttrade/analyze.js';

/** The market as this replica saw it when the fill arrived (finer than the heatmap history). */
export interface FillContext {
  /** Epoch ms of the heatmap used. */
  asOf: number;
  markPrice: number;
  clusters: Cluster[];
  /** Book mid (or the mark without a usable book). */
  referencePrice: number;
  /** What the gate's no-trade buffer rests on beside the policy and the hour (each absent when the map lacks it). */
  volatility?: BufferMap['volatility'];
  funding?: BufferMap['funding'];
  cascades?: BufferMap['cascades'];
  /**
   * The map's confidence value, null when it carries none. Absent on contexts stored before
   * the analysis used the gate's buffer: those are not enough to judge the buffer.
   */
  confidence?: number | null;
}

/** A fill as received, with the hash of its body (a resent fillId with another body is a conflict). */
export interface StoredFill {
  fill: Fill;
  hash: string;
  /** Epoch ms when its analysis is due (fill time + window). */
  dueAt: number;
  /** Null when the fill arrived long after it happened: the analysis then reads the heatmap history. */
  context: FillContext | null;
}

/**
 * Fills, the queue of analyses to run, and their results. Implemented in memory and on
 * Redis (posttrade-store.redis.ts); both pass test/stores/posttrade-store.contract.ts.
 * Results are kept for the retention given to the store, apart from the heatmap history
 * they were computed from.
 */
export interface PosttradeStore {
  /** Stores the fill and queues its analysis, once per fillId: null when new, else the fill already stored. */
  addFill(entry: StoredFill): Promise<StoredFill | null>;
  getFill(fillId: string): Promise<StoredFill | null>;
  /** Fill ids whose analysis is due at `now`, oldest first. */
  due(now: number, limit: number): Promise<string[]>;
  /** Stores the result and takes the fill off the queue (idempotent: the same result may be saved twice). */
  saveAnalysis(analysis: FillAnalysis): Promise<void>;
  getAnalysis(fillId: string): Promise<FillAnalysis | null>;
  /** Results of fills executed in [from, to], oldest first, at most `limit`. */
  analyses(from: number, to: number, limit: number): Promise<FillAnalysis[]>;
}

export function createMemoryPosttradeStore(retentionMs: number, now: () => number): PosttradeStore {
  const fills = new Map<string, StoredFill>();
  const pending = new Set<string>();
  const results = new Map<string, FillAnalysis>();
  const prune = () => {
    const cutoff = now() - retentionMs;
    for (const [id, a] of results) {
      if (a.ts >= cutoff) continue;
      results.delete(id);
      fills.delete(id);
    }
  };
  return {
    async addFill(entry) {
      const prior = fills.get(entry.fill.fillId);
      if (prior) return prior;
      fills.set(entry.fill.fillId, entry);
      pending.add(entry.fill.fillId);
      return null;
    },
    async getFill(id) {
      return fills.get(id) ?? null;
    },
    async due(at, limit) {
      return [...pending]
        .map((id) => fills.get(id)!)
        .filter((f) => f.dueAt <= at)
        .sort((a, b) => a.dueAt - b.dueAt)
        .slice(0, limit)
        .map((f) => f.fill.fillId);
    },
    async saveAnalysis(a) {
      results.set(a.fillId, a);
      pending.delete(a.fillId);
      prune();
    },
    async getAnalysis(id) {
      return results.get(id) ?? null;
    },
    async analyses(from, to, limit) {
      return [...results.values()]
        .filter((a) => a.ts >= from && a.ts <= to)
        .sort((a, b) => a.ts - b.ts)
        .slice(0, limit);
    },
  };
}
