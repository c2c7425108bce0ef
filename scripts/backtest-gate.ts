/**
 * Does the gate help? Replays bars with a scheduled order flow, ungated and through the
 * real `evaluatePretrade`, and prints slippage, drawdown, CVaR, liquidations and the
 * PnL of what the gate refused (README.md, "Does the gate reduce tail risk?").
 *
 *   npm run backtest:gate -- [--bars FILE.csv ...] [--dir REPLAY_DIR] [--every-hours 4] [--hold-hours 4]
 *     [--lookback-hours 4] [--notional 250000] [--leverage 25] [--depth-usd-per-bps 1.8e6]
 *     [--half-spread-bps 0.5] [--policy policy.json] [--maintenance-margin 0.004|BTCUSDT|JSON] [--cascades] [--json]
 *
 * Each file is run on its own. Beside the gate, a "random gate" hands out the gate's own
 * approved sizes in a shuffled order (--shuffles times, seeded): it trades exactly as much,
 * so it tells whether the gate picks WHICH orders to cut or only trades less. The heatmap the gate sees at each decision is built by the
 * model from the bars before it (default params); the order book is the book model's. With
 * --cascades the model is also given that book, so the map carries cascades (docs/model.md,
 * "Cascades") and the gate widens its buffer and score with them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHeatmapModel, HeatmapParamsSchema } from '../src/domain/heatmap/index.js';
import { PretradePolicySchema } from '../src/domain/pretrade/index.js';
import { BINANCE_MAINTENANCE_MARGIN, MaintenanceMarginSchema } from '../src/domain/margin.js';
import { linearBook, pretradeGate } from '../src/domain/eval/pretrade-gate.js';
import { runBacktest, type BacktestBar, type BacktestResult, type BookModel, type FlowConfig, type Gate, type RunStats } from '../src/domain/eval/backtest.js';
import { shuffled } from '../src/domain/eval/bootstrap.js';
import { parseBarsWithLiquidations, type BarRow } from './bars-with-liquidations.js';

const { values } = parseArgs({
  options: {
    bars: { type: 'string', multiple: true },
    dir: { type: 'string' },
    'every-hours': { type: 'string', default: '4' },
    'hold-hours': { type: 'string', default: '4' },
    'lookback-hours': { type: 'string', default: '4' },
    notional: { type: 'string', default: '250000' },
    leverage: { type: 'string', default: '25' },
    // Binance BTCUSDT, 2024-12-13 snapshot in ../shared/data: ~$1.8M per bps within 100 bps of mid on each side.
    'depth-usd-per-bps': { type: 'string', default: '1.8e6' },
    'half-spread-bps': { type: 'string', default: '0.5' },
    policy: { type: 'string' },
    /** The maintenance-margin rate shared by the model, the gate and the flow's own liquidations. */
    'maintenance-margin': { type: 'string', default: '0.004' },
    shuffles: { type: 'string', default: '200' },
    cascades: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const files = [...(values.bars ?? [])];
if (values.dir) {
  for (const f of readdirSync(values.dir).sort()) {
    if (f.endsWith('.csv') && !f.endsWith('.book.csv') && !f.endsWith('.liquidations.csv')) files.push(join(values.dir, f));
  }
}
if (files.length === 0) {
  console.error('usage: npm run backtest:gate -- --bars FILE.csv [--bars ...] [--dir REPLAY_DIR] [options]');
  process.exit(2);
}

const policy = PretradePolicySchema.parse(values.policy ? (JSON.parse(readFileSync(values.policy, 'utf8')) as unknown) : {});
// A rate (one tier), a symbol with a venue table (BTCUSDT, ETHUSDT) or a tier table as JSON.
const mmArg = values['maintenance-margin'];
const maintenanceMargin = MaintenanceMarginSchema.parse(
  mmArg.startsWith('[') ? JSON.parse(mmArg) : (BINANCE_MAINTENANCE_MARGIN[mmArg] ?? [{ rate: Number(mmArg) }]),
);
const book: BookModel = { halfSpreadBps: Number(values['half-spread-bps']), depthUsdPerBps: Number(values['depth-usd-per-bps']) };
const HOUR_MS = 3_600_000;

interface FileResult {
  file: string;
  bars: number;
  hours: number;
  cfg: FlowConfig;
  result: BacktestResult;
  /** Mean over shuffles of the random gate's stats. */
  random: RunStats;
  /** Mean high-low range (bps of the first open) over the lookback before, and the hold after, approved and refused orders. */
  ranges: { approved: { before: number; after: number; n: number }; refused: { before: number; after: number; n: number } };
  /** Share of shuffles in which the random gate did at least as well as the gate (higher is better for pnl and cvar, lower for drawdown and liquidations). */
  randomAtLeastAsGood: { pnlUsd: number; maxDrawdownUsd: number; cvarUsd: number; liquidated: number };
}

function meanStats(runs: readonly RunStats[]): RunStats {
  const m = (k: keyof RunStats): number => runs.reduce((s, r) => s + r[k], 0) / Math.max(1, runs.length);
  return {
    trades: m('trades'),
    notionalUsd: m('notionalUsd'),
    pnlUsd: m('pnlUsd'),
    slippageBps: m('slippageBps'),
    maxDrawdownUsd: m('maxDrawdownUsd'),
    cvarUsd: m('cvarUsd'),
    cvarBps: m('cvarBps'),
    liquidated: m('liquidated'),
  };
}

function runFile(file: string): FileResult {
  const rows: BarRow[] = parseBarsWithLiquidations(readFileSync(file, 'utf8')).rows;
  const barMs = (rows[1]?.bar.ts ?? 0) - (rows[0]?.bar.ts ?? 0);
  if (!(barMs > 0)) throw new Error(`${file}: need at least two bars with increasing timestamps`);
  const perHour = HOUR_MS / barMs;
  const cfg: FlowConfig = {
    everyBars: Math.max(1, Math.round(Number(values['every-hours']) * perHour)),
    holdBars: Math.max(1, Math.round(Number(values['hold-hours']) * perHour)),
    lookbackBars: Math.max(1, Math.round(Number(values['lookback-hours']) * perHour)),
    notionalUsd: Number(values.notional),
    leverage: Number(values.leverage),
    maintenanceMargin,
    book,
    cvarShare: 0.05,
  };
  const bars: BacktestBar[] = rows.map((r) => ({ ...r.bar, liqLongUsd: r.liqLong ?? 0, liqShortUsd: r.liqShort ?? 0 }));
  const model = createHeatmapModel('BTCUSDT', HeatmapParamsSchema.parse({}), maintenanceMargin);
  let ingested = -1;
  const fractions: number[] = [];
  const real = pretradeGate({
    symbol: 'BTCUSDT',
    leverage: cfg.leverage,
    policy,
    maintenanceMargin,
    maxHeatmapAgeMs: 60_000,
    marketAt: (i) => {
      // The decision is taken after bar i closed: the model holds bars 0..i and nothing later.
      for (; ingested < i; ingested++) {
        const next = rows[ingested + 1];
        if (next) model.ingest('replay', [next.bar]);
      }
      const bar = rows[i]?.bar;
      if (!bar) return null;
      const now = bar.ts + barMs;
      const orderBook = linearBook(book, bar.close, now);
      const heatmap = values.cascades ? model.build({ markPrice: bar.close, now, orderBook }) : model.build({ markPrice: bar.close, now });
      return { heatmap, orderBook, now };
    },
  });
  const rangeBps = (from: number, to: number): number => {
    const part = rows.slice(Math.max(0, from), to + 1).map((r) => r.bar);
    const first = part[0];
    if (!first) return NaN;
    return ((Math.max(...part.map((b) => b.high)) - Math.min(...part.map((b) => b.low))) / first.open) * 1e4;
  };
  const seen = { approved: { before: 0, after: 0, n: 0 }, refused: { before: 0, after: 0, n: 0 } };
  const gate: Gate = (i, side, notionalUsd) => {
    const answer = real(i, side, notionalUsd);
    fractions.push(Math.min(1, answer.approvedNotionalUsd / notionalUsd));
    const s = answer.approvedNotionalUsd > 0 ? seen.approved : seen.refused;
    s.before += rangeBps(i - cfg.lookbackBars + 1, i);
    s.after += rangeBps(i + 1, i + cfg.holdBars);
    s.n++;
    return answer;
  };
  const result = runBacktest(bars, cfg, gate);
  const random: RunStats[] = [];
  for (let seed = 1; seed <= Number(values.shuffles); seed++) {
    const order = shuffled(fractions, seed);
    let k = 0;
    random.push(runBacktest(bars, cfg, (_i, _side, usd) => ({ approvedNotionalUsd: (order[k++] ?? 0) * usd, reasons: [] })).gated);
  }
  const g = result.gated;
  const share = (ok: (r: RunStats) => boolean): number => random.filter(ok).length / Math.max(1, random.length);
  return {
    file,
    bars: rows.length,
    hours: (rows.length * barMs) / HOUR_MS,
    cfg,
    result,
    random: meanStats(random),
    ranges: {
      approved: { before: seen.approved.before / seen.approved.n, after: seen.approved.after / seen.approved.n, n: seen.approved.n },
      refused: { before: seen.refused.before / seen.refused.n, after: seen.refused.after / seen.refused.n, n: seen.refused.n },
    },
    randomAtLeastAsGood: {
      pnlUsd: share((r) => r.pnlUsd >= g.pnlUsd),
      maxDrawdownUsd: share((r) => r.maxDrawdownUsd <= g.maxDrawdownUsd),
      cvarUsd: share((r) => r.cvarUsd >= g.cvarUsd),
      liquidated: share((r) => r.liquidated <= g.liquidated),
    },
  };
}

const usd = (x: number): string => (Number.isFinite(x) ? `${x < 0 ? '-' : ''}$${Math.abs(Math.round(x)).toLocaleString('en-US')}` : 'n/a');
const out = files.map(runFile);
if (values.json) {
  console.log(JSON.stringify(out, null, 2));
} else {
  for (const r of out) {
    const { ungated: u, gated: g, refused } = r.result;
    const x = r.random;
    console.log(`\n${r.file}: ${r.bars} bars (${(r.hours / 24).toFixed(1)} days)`);
    console.log(
      `flow: every ${values['every-hours']} h a ${usd(r.cfg.notionalUsd)} market order at ${r.cfg.leverage}x, with the last ${values['lookback-hours']} h's move, held ${values['hold-hours']} h; book ${usd(book.depthUsdPerBps)}/bps, half spread ${book.halfSpreadBps} bps${values.cascades ? '; heatmap with cascades' : ''}`,
    );
    console.log(`                      ungated        gated  random gate (mean of ${values.shuffles})`);
    const row = (label: string, a: string, b: string, c: string, p?: number): void =>
      console.log(
        `  ${label.padEnd(18)} ${a.padStart(12)} ${b.padStart(12)} ${c.padStart(12)}${p === undefined ? '' : `   random as good or better in ${(p * 100).toFixed(0)}%`}`,
      );
    const p = r.randomAtLeastAsGood;
    row('trades', String(u.trades), String(g.trades), x.trades.toFixed(1));
    row('notional traded', usd(u.notionalUsd), usd(g.notionalUsd), usd(x.notionalUsd));
    row('PnL', usd(u.pnlUsd), usd(g.pnlUsd), usd(x.pnlUsd), p.pnlUsd);
    row('slippage (bps)', u.slippageBps.toFixed(2), g.slippageBps.toFixed(2), x.slippageBps.toFixed(2));
    row('max drawdown', usd(u.maxDrawdownUsd), usd(g.maxDrawdownUsd), usd(x.maxDrawdownUsd), p.maxDrawdownUsd);
    row('CVaR 5% / order', usd(u.cvarUsd), usd(g.cvarUsd), usd(x.cvarUsd), p.cvarUsd);
    row('CVaR 5% (bps)', u.cvarBps.toFixed(1), g.cvarBps.toFixed(1), x.cvarBps.toFixed(1));
    row('liquidated', String(u.liquidated), String(g.liquidated), x.liquidated.toFixed(2), p.liquidated);
    const reasons = Object.entries(refused.reasons)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    console.log(
      `  refused: ${refused.rejected} rejected, ${refused.resized} resized (${reasons || 'none'}); their ungated PnL ${usd(refused.costUsd)} ` +
        `(${refused.costUsd > 0 ? 'profit given up' : 'loss avoided'}); liquidations avoided ${refused.liquidationsAvoided}`,
    );
    const rg = r.ranges;
    // A group with no orders has no mean range: say so rather than print NaN.
    const bps = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
    console.log(
      `  mean high-low range (bps) before / during the hold: approved orders ${bps(rg.approved.before)} / ${bps(rg.approved.after)} (n=${rg.approved.n}), ` +
        `refused ${bps(rg.refused.before)} / ${bps(rg.refused.after)} (n=${rg.refused.n})`,
    );
  }
}
