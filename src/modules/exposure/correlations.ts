import type { Logger } from 'pino';
import { correlate, correlationInstants, logReturns, type PairCorrelation } from '../../domain/exposure/correlation.js';
import type { HeatmapStore } from '../../stores/heatmap-store.js';

/** How often the correlation matrix is measured again (one history read per symbol). */
export const CORRELATION_REFRESH_MS = 5 * 60_000;

export interface CorrelationBoard {
  /** The last measured correlation of two symbols; 1 (assumed) when unmeasured. */
  rho(a: string, b: string): PairCorrelation;
  measuredAt(): number | null;
  /** Measures now from the heatmap history (marks at whole 5-minute instants). */
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

/**
 * Correlations between the configured symbols, measured in the background from the mark
 * of the stored heatmap history at 5-minute instants, so no request waits on history reads.
 * A sample repeating the previous snapshot (a gap in history) counts as missing.
 */
export function createCorrelationBoard(o: {
  symbols: readonly string[];
  store: Pick<HeatmapStore, 'getAtMany'>;
  returns: number;
  minReturns: number;
  clock: () => number;
  logger: Logger;
}): CorrelationBoard {
  let matrix = new Map<string, PairCorrelation>();
  let at: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  const key = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
  const refresh = async () => {
    const now = o.clock();
    const instants = correlationInstants(now, o.returns);
    const series = new Map<string, (number | null)[]>();
    for (const s of o.symbols) {
      const snaps = await o.store.getAtMany(s, instants);
      let prevAsOf: number | null = null;
      const prices = snaps.map((snap) => {
        if (!snap || snap.asOf === prevAsOf) return null;
        prevAsOf = snap.asOf;
        return snap.heatmap.markPrice;
      });
      series.set(s, logReturns(prices));
    }
    const next = new Map<string, PairCorrelation>();
    for (const a of o.symbols)
      for (const b of o.symbols) if (a < b) next.set(key(a, b), correlate(series.get(a) ?? [], series.get(b) ?? [], o.minReturns));
    matrix = next;
    at = now;
  };
  return {
    rho: (a, b) => (a === b ? { rho: 1, n: 0, assumed: false } : (matrix.get(key(a, b)) ?? { rho: 1, n: 0, assumed: true })),
    measuredAt: () => at,
    refresh,
    start() {
      if (timer) return;
      const run = () => refresh().catch((err: unknown) => o.logger.warn({ err }, 'correlations not measured; the last ones stand'));
      void run();
      timer = setInterval(run, CORRELATION_REFRESH_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
