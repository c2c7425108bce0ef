import type { Logger } from 'pino';
import type { HeatmapSnapshot, HeatmapStore } from '../../stores/heatmap-store.js';
import type { FillContext, PosttradeStore, StoredFill } from '../../stores/posttrade-store.js';
import { analyzeFill, type DecisionFacts, type FillAnalysis, type PricePoint } from '../../domain/posttrade/analyze.js';
import { bookReferencePrice, bookDefect } from '../../domain/pretrade/slippage.js';
import type { PretradePolicy } from '../../domain/pretrade/policy.js';
import type { HeatmapReader } from '../module.js';

/**
 * The market as a snapshot shows it, for a fill: mark, clusters, the book mid (the mark
 * without a usable book), and what the gate's no-trade buffer rests on.
 */
export function contextOf(snap: HeatmapSnapshot): FillContext {
  const book = snap.orderBook;
  const mid = book && bookDefect(book) === null ? bookReferencePrice(book) : null;
  const h = snap.heatmap;
  return {
    asOf: snap.asOf,
    markPrice: h.markPrice,
    clusters: h.clusters,
    referencePrice: mid ?? h.markPrice,
    ...(h.volatility === undefined ? {} : { volatility: h.volatility }),
    ...(h.funding === undefined ? {} : { funding: h.funding }),
    ...(h.cascades === undefined ? {} : { cascades: h.cascades }),
    confidence: snap.confidence?.value ?? null,
  };
}

/** What the analysis needs of the audit record of a decision (its JSON as the audit log stores it). */
export function decisionFacts(recordJson: string | null): DecisionFacts | null {
  if (recordJson === null) return null;
  try {
    const r = JSON.parse(recordJson) as {
      evaluatedAt?: string;
      request?: { reduceOnly?: boolean };
      decision?: { decision?: DecisionFacts['decision']; expectedSlippageBps?: number | null };
    };
    if (!r.decision?.decision) return null;
    return {
      decision: r.decision.decision,
      expectedSlippageBps: typeof r.decision.expectedSlippageBps === 'number' ? r.decision.expectedSlippageBps : null,
      reduceOnly: r.request?.reduceOnly === true,
      evaluatedAt: Date.parse(r.evaluatedAt ?? ''),
    };
  } catch {
    return null;
  }
}

/**
 * Marks this replica saw, per symbol (every heatmap it received): a finer price path than
 * the heatmap history (one snapshot per HISTORY_INTERVAL_MS). Bounded by age.
 */
export class MarkTape {
  private readonly points = new Map<string, PricePoint[]>();
  constructor(private readonly keepMs: number) {}

  record(symbol: string, ts: number, price: number): void {
    const pts = this.points.get(symbol) ?? [];
    const last = pts[pts.length - 1];
    if (last && ts <= last.ts) return;
    pts.push({ ts, price });
    const cutoff = ts - this.keepMs;
    let drop = 0;
    while (drop < pts.length && pts[drop]!.ts < cutoff) drop++;
    this.points.set(symbol, drop > 0 ? pts.slice(drop) : pts);
  }

  /** Points in [from, to], and whether the tape reaches back to `from`. */
  between(symbol: string, from: number, to: number): { points: PricePoint[]; covers: boolean } {
    const pts = this.points.get(symbol) ?? [];
    return { points: pts.filter((p) => p.ts >= from && p.ts <= to), covers: pts.length > 0 && pts[0]!.ts <= from };
  }
}

export interface AnalyzerDeps {
  store: PosttradeStore;
  heatmapStore: HeatmapStore;
  reader: HeatmapReader;
  symbols: string[];
  decisionRecord: (decisionId: string) => Promise<string | null>;
  policyFor: (symbol: string) => PretradePolicy;
  windowMs: number;
  historyIntervalMs: number;
  clock: () => number;
  logger: Logger;
}

/**
 * Runs each fill's analysis once it is due (fill time + window) and stores the result.
 * Every replica runs it; the store hands the same due fill to several at once only in a
 * race, and then they compute and save the same result (saving is idempotent).
 */
export class PosttradeAnalyzer {
  readonly tape: MarkTape;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<number> | null = null;

  constructor(private readonly d: AnalyzerDeps) {
    this.tape = new MarkTape(2 * d.windowMs + 5 * 60_000);
  }

  start(everyMs = 1_000): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.runOnce().finally(() => {
          if (this.timer !== null) tick();
        });
      }, everyMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Records the marks of the latest heatmaps and analyses what is due; returns how many it
   * analysed. A call during a run waits for that run, then runs again.
   */
  async runOnce(): Promise<number> {
    while (this.inFlight) await this.inFlight;
    this.inFlight = this.run();
    try {
      return await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  private async run(): Promise<number> {
    try {
      for (const s of this.d.symbols) {
        const snap = this.d.reader.get(s);
        if (snap) this.tape.record(s, snap.asOf, snap.heatmap.markPrice);
      }
      const ids = await this.d.store.due(this.d.clock(), 100);
      let done = 0;
      for (const id of ids) {
        const stored = await this.d.store.getFill(id);
        if (!stored) continue;
        await this.d.store.saveAnalysis(await this.analyse(stored));
        done++;
      }
      return done;
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'post-trade analysis failed; retrying on the next tick');
      return 0;
    }
  }

  async analyse(stored: StoredFill): Promise<FillAnalysis> {
    const { fill } = stored;
    const decision = fill.decisionId ? decisionFacts(await this.d.decisionRecord(fill.decisionId)) : null;
    // A context stored before it kept what the gate's buffer rests on is read as none: history has it.
    let context = stored.context && stored.context.confidence !== undefined ? stored.context : null;
    if (!context) {
      const snap = await this.d.heatmapStore.getAt(fill.symbol, fill.ts);
      context = snap && fill.ts - snap.asOf <= this.d.historyIntervalMs * 2 ? contextOf(snap) : null;
    }
    const policy = this.d.policyFor(fill.symbol);
    return analyzeFill({
      fill,
      decision,
      heatmap: context
        ? { markPrice: context.markPrice, clusters: context.clusters, volatility: context.volatility, funding: context.funding, cascades: context.cascades }
        : null,
      confidence: context?.confidence ?? null,
      referencePrice: context?.referencePrice ?? null,
      path: await this.path(fill.symbol, fill.ts),
      windowMs: this.d.windowMs,
      policy,
    });
  }

  /** The price path over [ts - W, ts + W]: this replica's tape, plus the heatmap history where the tape does not reach. */
  private async path(symbol: string, ts: number): Promise<PricePoint[]> {
    const from = ts - this.d.windowMs;
    const to = ts + this.d.windowMs;
    const { points, covers } = this.tape.between(symbol, from, to);
    if (covers) return points;
    const out = [...points];
    for (let t = from; t <= to; t += this.d.historyIntervalMs) {
      const snap = await this.d.heatmapStore.getAt(symbol, t);
      if (snap && snap.asOf >= from) out.push({ ts: snap.asOf, price: snap.heatmap.markPrice });
    }
    return out;
  }
}
