import type { Logger } from 'pino';
import type { HeatmapSnapshot, HeatmapStore } from '../../stores/heatmap-store.js';

/**
 * This replica's in-memory copy of the latest heatmap per symbol: what request handlers
 * and the pre-trade gate read (never the store per request). Fed by the store's
 * announcements (one fetch per announced version, not per request), by this replica's
 * own writes, and by a periodic reconcile that repairs announcements missed while the
 * subscriber was disconnected. It takes what the store gives: a store refuses an invalid map
 * on write and treats one on read as missing, so every snapshot here passed the schema once.
 */
export class HeatmapCache {
  private readonly latest = new Map<string, HeatmapSnapshot>();
  /** Symbols with a fetch in flight, and the newest version announced meanwhile. */
  private readonly fetching = new Map<string, number>();
  private readonly listeners = new Set<(s: HeatmapSnapshot) => void>();

  constructor(
    private readonly store: HeatmapStore,
    private readonly logger: Logger,
  ) {}

  get(symbol: string): HeatmapSnapshot | undefined {
    return this.latest.get(symbol);
  }

  /**
   * Keeps the newer of what we have and `s`. Versions only grow per symbol, except when
   * the store was wiped: a lower version with a later asOf is then taken as the truth.
   */
  apply(s: HeatmapSnapshot): boolean {
    const cur = this.latest.get(s.symbol);
    if (cur && (s.version < cur.version ? s.asOf <= cur.asOf : s.version === cur.version)) return false;
    this.latest.set(s.symbol, s);
    for (const l of this.listeners) l(s);
    return true;
  }

  onChange(listener: (s: HeatmapSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An announcement of (symbol, version): fetch once if it is newer than ours. */
  announced(symbol: string, version: number): void {
    const cur = this.latest.get(symbol);
    if (cur && cur.version >= version) return;
    const pending = this.fetching.get(symbol);
    if (pending !== undefined) {
      this.fetching.set(symbol, Math.max(pending, version));
      return;
    }
    this.fetching.set(symbol, version);
    void this.fetch(symbol);
  }

  /** Reads the latest of every symbol from the store (start-up, and after missed announcements). */
  async reconcile(symbols: string[]): Promise<void> {
    await Promise.all(
      symbols.map(async (symbol) => {
        const s = await this.store.getLatest(symbol);
        if (s) this.apply(s);
      }),
    );
  }

  private async fetch(symbol: string): Promise<void> {
    try {
      for (;;) {
        const wanted = this.fetching.get(symbol) ?? 0;
        const s = await this.store.getLatest(symbol);
        if (s) this.apply(s);
        const again = this.fetching.get(symbol) ?? 0;
        // A newer version was announced while we fetched, and what we got is older: go again.
        if (again > wanted && (this.latest.get(symbol)?.version ?? 0) < again) continue;
        break;
      }
    } catch (err) {
      this.logger.warn({ symbol, err: (err as Error).message }, 'could not fetch an announced heatmap; the reconcile will retry');
    } finally {
      this.fetching.delete(symbol);
    }
  }
}
