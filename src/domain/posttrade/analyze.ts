import type { Cluster, Heatmap } from '../heatmap/types.js';
import { distanceToZoneBps, noTradeBuffersFor, type BufferMap } from '../pretrade/facts.js';
import { BOUNDARY_EPS_BPS } from '../pretrade/numbers.js';
import type { PretradePolicy } from '../pretrade/policy.js';
import type { ExitAnalysis, Fill, FillAnalysis, FillSide } from './types.js';

export type { ExitAnalysis, Fill, FillAnalysis, FillSide } from './types.js';

/**
 * Post-trade analysis of one fill: pure, time passed in. The rationale and every default
 * are in docs/posttrade.md.
 */

/** What the gate said about the order that produced the fill (from the audit log). */
export interface DecisionFacts {
  decision: 'APPROVE' | 'RESIZE' | 'REJECT';
  expectedSlippageBps: number | null;
  reduceOnly: boolean;
  evaluatedAt: number;
}

export interface PricePoint {
  ts: number;
  price: number;
}

export interface AnalysisInput {
  fill: Fill;
  decision: DecisionFacts | null;
  /** The heatmap current at the fill (its mark, clusters and what the gate's buffer rests on), or null when none was kept. */
  heatmap: (Pick<Heatmap, 'markPrice' | 'clusters'> & BufferMap) | null;
  /** That map's confidence (0..1); null when it carries none (the gate reads that as 0). */
  confidence: number | null;
  /** Mid (or mark) when the order was decided (or at the fill without a decision): what slippage is measured from. */
  referencePrice: number | null;
  /** Marks in [ts - windowMs, ts + windowMs], any order. */
  path: readonly PricePoint[];
  windowMs: number;
  /** The gate's policy for the symbol: the buffer is the one the gate applies (noTradeBuffersFor), not a copy of its arithmetic. */
  policy: PretradePolicy;
}

const BPS = 10_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

const finitePositive = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

export function utcHour(ts: number): number {
  return Math.floor((((ts % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
}

/** Signed slippage: what the fill paid beyond the reference, in bps of it (a buy above it, a sell below it, is positive). */
export function realizedSlippageBps(side: FillSide, price: number, reference: number): number {
  const d = side === 'buy' ? price - reference : reference - price;
  return (d / reference) * BPS;
}

/**
 * An exit is cluster-affected when the price range over [ts - W, ts + W] (the path plus
 * the fill itself) overlaps a major zone of the heatmap at the fill: price traded into or
 * through it. The move is the largest excursion from the fill price in the window; the
 * reverted share is how much of it the price had given back by the window's last point.
 */
export function analyzeExit(fillPrice: number, ts: number, path: readonly PricePoint[], windowMs: number, majors: readonly Cluster[]): ExitAnalysis {
  const inWindow = path.filter((p) => Math.abs(p.ts - ts) <= windowMs && finitePositive(p.price)).sort((a, b) => a.ts - b.ts);
  let lo = fillPrice;
  let hi = fillPrice;
  for (const p of inWindow) {
    lo = Math.min(lo, p.price);
    hi = Math.max(hi, p.price);
  }
  const clusterAffected = majors.some((c) => lo <= c.priceHigh && hi >= c.priceLow);
  const up = hi - fillPrice;
  const down = fillPrice - lo;
  const extreme = up >= down ? hi : lo;
  const move = extreme - fillPrice;
  const last = inWindow.length > 0 ? inWindow[inWindow.length - 1]! : null;
  let revertedShare: number | null = null;
  if (move !== 0 && last !== null && last.ts >= ts) {
    revertedShare = Math.min(1, Math.max(0, (extreme - last.price) / move));
  }
  return { clusterAffected, moveBps: (move / fillPrice) * BPS, revertedShare, pathPoints: inWindow.length };
}

export function analyzeFill(input: AnalysisInput): FillAnalysis {
  const { fill, decision, heatmap } = input;
  const mark = heatmap && finitePositive(heatmap.markPrice) ? heatmap.markPrice : null;
  const clusters = heatmap && mark !== null && Array.isArray(heatmap.clusters) ? heatmap.clusters : null;
  const majors = clusters ? clusters.filter((c) => c.major) : [];

  let inClusterZone: boolean | null = null;
  let inBuffer: boolean | null = null;
  let distanceToMajorBps: number | null = null;
  if (heatmap && clusters && mark !== null) {
    inClusterZone = clusters.some((c) => fill.price >= c.priceLow && fill.price <= c.priceHigh);
    for (const c of majors) {
      const d = distanceToZoneBps(fill.price, c, mark);
      if (distanceToMajorBps === null || d < distanceToMajorBps) distanceToMajorBps = d;
    }
    // The gate's buffer for an order on the fill's side at the fill's moment: against the
    // adverse side's zones widened by its cascade, against the other side's only when the
    // policy looks at both; the confidence factor and the hour in both.
    const buffers = noTradeBuffersFor(input.policy, heatmap, fill.side, fill.ts, input.confidence);
    inBuffer = majors.some((c) => {
      const buffer = buffers[c.side];
      return buffer !== null && distanceToZoneBps(fill.price, c, mark) <= buffer + BOUNDARY_EPS_BPS;
    });
  }

  const reducing = fill.reducesPosition ?? decision?.reduceOnly ?? null;
  return {
    fillId: fill.fillId,
    decisionId: fill.decisionId,
    decisionFound: decision !== null,
    accountId: fill.accountId,
    symbol: fill.symbol,
    side: fill.side,
    ts: fill.ts,
    hourUtc: utcHour(fill.ts),
    notionalUsd: fill.quantity * fill.price,
    realizedSlippageBps: finitePositive(input.referencePrice) ? realizedSlippageBps(fill.side, fill.price, input.referencePrice) : null,
    expectedSlippageBps: decision?.expectedSlippageBps ?? null,
    inClusterZone,
    inBuffer,
    distanceToMajorBps,
    exit: reducing ? analyzeExit(fill.price, fill.ts, input.path, input.windowMs, majors) : null,
  };
}
