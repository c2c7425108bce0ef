import type { Side } from '../market-data.js';
import { liquidationDistance, liquidationPrice, maintenanceRateAt, type MaintenanceMargin } from '../margin.js';

/**
 * Does the gate help? One scheduled order flow replayed twice over the same bars: every
 * order executed in full (ungated), and every order executed at the size a gate approves
 * (gated). Pure: the gate is a callback. The flow, the book model and the metrics are
 * written up in README.md ("Does the gate reduce tail risk?").
 */

export interface BacktestBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Realized liquidations in the bar (USD); 0 when unknown. */
  liqLongUsd: number;
  liqShortUsd: number;
}

export interface BookModel {
  /** Half the bid-ask spread, bps. */
  halfSpreadBps: number;
  /** Resting USD per bps of distance from the touch, each side (linear depth). */
  depthUsdPerBps: number;
}

export interface FlowConfig {
  /** A new position is decided after every `everyBars`-th bar... */
  everyBars: number;
  /** ...and held for this many bars (<= everyBars, so at most one is open). */
  holdBars: number;
  /** Side: with the move over this many bars (up: long, down or flat: short). */
  lookbackBars: number;
  notionalUsd: number;
  leverage: number;
  /** Maintenance margin of the position's own liquidation price. */
  maintenanceMargin: MaintenanceMargin;
  book: BookModel;
  /** Tail share for CVaR, e.g. 0.05. */
  cvarShare: number;
}

/** The gate's answer for one opening order (decided after bar `index` closed). */
export interface GateAnswer {
  approvedNotionalUsd: number;
  /** Reason codes, for the tally. */
  reasons: readonly string[];
}
export type Gate = (index: number, side: Side, notionalUsd: number) => GateAnswer;

export interface TradeResult {
  notionalUsd: number;
  pnlUsd: number;
  /** Entry plus exit slippage paid, USD. */
  slippageUsd: number;
  liquidated: boolean;
}

export interface RunStats {
  trades: number;
  notionalUsd: number;
  pnlUsd: number;
  /** Notional-weighted mean slippage per side of a round trip, bps. */
  slippageBps: number;
  /** Largest fall of cumulative PnL from its running peak, USD (>= 0). */
  maxDrawdownUsd: number;
  /** Mean of the worst `cvarShare` of trade PnLs, USD (every trade counts, skipped ones as 0). */
  cvarUsd: number;
  /** The same per trade in bps of the notional each trade would have had ungated. */
  cvarBps: number;
  liquidated: number;
}

export interface BacktestResult {
  ungated: RunStats;
  gated: RunStats;
  /** Orders the gate cut: rejected in full or resized. */
  refused: {
    rejected: number;
    resized: number;
    /** Σ ungated PnL × refused share: > 0 the gate gave up profit, < 0 it avoided losses. */
    costUsd: number;
    /** Ungated liquidations among the orders the gate rejected in full. */
    liquidationsAvoided: number;
    reasons: Record<string, number>;
  };
}

/**
 * Impact of executing `usd` at once: half the spread plus the walk through linear depth
 * (average fill usd / (2 × depth) bps from the touch). Forced liquidations in the same
 * bar and direction take the same depth first; ours walks behind them, so the walk cost
 * grows by forced / (10 bps of depth): a cascade as large as 10 bps of the book doubles it.
 */
export function impactBps(book: BookModel, usd: number, forcedSameDirectionUsd: number): number {
  if (!(usd > 0)) return 0;
  const walk = usd / (2 * book.depthUsdPerBps);
  return book.halfSpreadBps + walk * (1 + forcedSameDirectionUsd / (10 * book.depthUsdPerBps));
}

/** A buy takes asks, where short liquidations (forced buys) land; a sell takes bids, where long liquidations land. */
const forcedAgainst = (bar: BacktestBar, buy: boolean): number => (buy ? bar.liqShortUsd : bar.liqLongUsd);

/** One position opened at bar `entry`'s open, held `holdBars` bars (or to the data's end). */
export function simulateTrade(bars: readonly BacktestBar[], entry: number, side: Side, usd: number, cfg: FlowConfig): TradeResult | null {
  const first = bars[entry];
  if (!first || !(usd > 0)) return null;
  const long = side === 'long';
  const inBps = impactBps(cfg.book, usd, forcedAgainst(first, long));
  const entryPx = first.open * (1 + ((long ? 1 : -1) * inBps) / 1e4);
  const qty = usd / first.open;
  const margin = usd / cfg.leverage;
  // The venue's tier for a position of this size (a larger one liquidates nearer its entry).
  const liqPx = liquidationPrice(side, entryPx, liquidationDistance(cfg.leverage, maintenanceRateAt(cfg.maintenanceMargin, usd)));
  const entrySlip = qty * Math.abs(entryPx - first.open);
  const last = Math.min(entry + cfg.holdBars - 1, bars.length - 1);
  for (let i = entry; i <= last; i++) {
    const b = bars[i];
    if (!b) break;
    // Isolated margin: the venue closes it and the whole margin is lost.
    if (long ? b.low <= liqPx : b.high >= liqPx) return { notionalUsd: usd, pnlUsd: -margin, slippageUsd: entrySlip, liquidated: true };
  }
  const exitBar = bars[last] ?? first;
  const outBps = impactBps(cfg.book, qty * exitBar.close, forcedAgainst(exitBar, !long));
  const exitPx = exitBar.close * (1 - ((long ? 1 : -1) * outBps) / 1e4);
  const pnl = (long ? 1 : -1) * qty * (exitPx - entryPx);
  return { notionalUsd: usd, pnlUsd: pnl, slippageUsd: entrySlip + qty * Math.abs(exitBar.close - exitPx), liquidated: false };
}

/** Mean of the worst ceil(share × n) values; NaN for none. */
export function cvar(values: readonly number[], share: number): number {
  if (values.length === 0) return NaN;
  const k = Math.max(1, Math.ceil(share * values.length));
  const worst = [...values].sort((a, b) => a - b).slice(0, k);
  return worst.reduce((s, v) => s + v, 0) / k;
}

/** Largest peak-to-trough fall of the running sum. */
export function maxDrawdown(pnls: readonly number[]): number {
  let equity = 0;
  let peak = 0;
  let dd = 0;
  for (const p of pnls) {
    equity += p;
    peak = Math.max(peak, equity);
    dd = Math.max(dd, peak - equity);
  }
  return dd;
}

function stats(trades: ReadonlyArray<TradeResult | null>, requested: readonly number[], share: number): RunStats {
  const done = trades.filter((t): t is TradeResult => t !== null);
  const pnls = trades.map((t) => t?.pnlUsd ?? 0);
  const notional = done.reduce((s, t) => s + t.notionalUsd, 0);
  const slip = done.reduce((s, t) => s + t.slippageUsd, 0);
  return {
    trades: done.length,
    notionalUsd: notional,
    pnlUsd: pnls.reduce((s, v) => s + v, 0),
    slippageBps: notional > 0 ? (slip / (2 * notional)) * 1e4 : 0,
    maxDrawdownUsd: maxDrawdown(pnls),
    cvarUsd: cvar(pnls, share),
    cvarBps: cvar(
      pnls.map((p, i) => ((requested[i] ?? 0) > 0 ? (p / (requested[i] ?? 1)) * 1e4 : 0)),
      share,
    ),
    liquidated: done.filter((t) => t.liquidated).length,
  };
}

/**
 * Replays the flow: after bar i (i = lookbackBars − 1 + k × everyBars) an order opens at
 * bar i+1's open, long if the close rose over the lookback, else short; ungated at full
 * size, gated at the size `gate` approves (capped at the request).
 */
export function runBacktest(bars: readonly BacktestBar[], cfg: FlowConfig, gate: Gate): BacktestResult {
  if (!(cfg.holdBars >= 1 && cfg.holdBars <= cfg.everyBars)) throw new RangeError('holdBars must be in [1, everyBars]');
  if (!(cfg.lookbackBars >= 1)) throw new RangeError('lookbackBars must be >= 1');
  const ungated: Array<TradeResult | null> = [];
  const gated: Array<TradeResult | null> = [];
  const requested: number[] = [];
  const refused: BacktestResult['refused'] = { rejected: 0, resized: 0, costUsd: 0, liquidationsAvoided: 0, reasons: {} };
  for (let i = cfg.lookbackBars; i + 1 < bars.length; i += cfg.everyBars) {
    const now = bars[i];
    const then = bars[i - cfg.lookbackBars];
    if (!now || !then) continue;
    const side: Side = now.close > then.close ? 'long' : 'short';
    const answer = gate(i, side, cfg.notionalUsd);
    const approved = Math.min(cfg.notionalUsd, Math.max(0, answer.approvedNotionalUsd));
    const full = simulateTrade(bars, i + 1, side, cfg.notionalUsd, cfg);
    ungated.push(full);
    gated.push(approved > 0 ? simulateTrade(bars, i + 1, side, approved, cfg) : null);
    requested.push(cfg.notionalUsd);
    if (approved < cfg.notionalUsd) {
      if (approved === 0) refused.rejected++;
      else refused.resized++;
      refused.costUsd += (full?.pnlUsd ?? 0) * (1 - approved / cfg.notionalUsd);
      if (approved === 0 && full?.liquidated) refused.liquidationsAvoided++;
      for (const r of answer.reasons) refused.reasons[r] = (refused.reasons[r] ?? 0) + 1;
    }
  }
  return { ungated: stats(ungated, requested, cfg.cvarShare), gated: stats(gated, requested, cfg.cvarShare), refused };
}
