/**
 * Walk-forward evaluation of the heatmap model against realized liquidations.
 *
 *   npm run eval -- --bars FILE.csv [--out PRED.csv] [--params model.json] [--set split.maxTilt=0.2 ...] [--maintenance-margin 0.004|BTCUSDT|JSON]
 *     [--events EVENTS.csv[.gz] [--split ISO] [--gap-min 45] [--resamples 2000] [--seed 1] [--block-hours 1]]
 *
 * For every bar t the model holds bars < t only; given bar t's open, low and high it
 * predicts the long notional liquidated in [low, open] and the short notional in
 * [open, high]. The liq_* columns are read by the scoring step only.
 *
 * With --events (per-event liquidations with prices) it also scores WHERE: per hour, the
 * ladder built at the hour's open against realized liquidation USD per traded price bin
 * (scripts/eval-price-level.ts). --split separates the fit hours from the scored ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { createHeatmapModel, HeatmapParamsSchema, notionalBetween, type HeatmapModel } from '../src/domain/heatmap/index.js';
import { spearman } from '../src/domain/heatmap/spearman.js';
import { sweptMassScore } from '../src/domain/eval/swept-mass.js';
import { BINANCE_MAINTENANCE_MARGIN, MaintenanceMarginSchema } from '../src/domain/margin.js';
import { parseLiquidationEventsCsv } from '../src/domain/eval/events-csv.js';
import { parseBarsWithLiquidations as parseBars } from './bars-with-liquidations.js';
import { PriceLevelCollector, reportPriceLevel, type PriceLevelOptions } from './eval-price-level.js';

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1] ?? ''] = value;
}

const { values } = parseArgs({
  options: {
    bars: { type: 'string' },
    out: { type: 'string' },
    params: { type: 'string' },
    set: { type: 'string', multiple: true },
    'maintenance-margin': { type: 'string', default: '0.004' },
    'warmup-days': { type: 'string', default: '7' },
    quiet: { type: 'boolean', default: false },
    events: { type: 'string' },
    split: { type: 'string' },
    'gap-min': { type: 'string', default: '45' },
    resamples: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '1' },
    'block-hours': { type: 'string', default: '1' },
  },
});
if (!values.bars) {
  console.error('usage: npm run eval -- --bars FILE.csv [--out PRED.csv] [--params model.json] [--set path=value ...]');
  process.exit(2);
}

const overrides: Record<string, unknown> = values.params ? (JSON.parse(readFileSync(values.params, 'utf8')) as Record<string, unknown>) : {};
for (const s of values.set ?? []) {
  const eq = s.indexOf('=');
  setPath(overrides, s.slice(0, eq), JSON.parse(s.slice(eq + 1)) as unknown);
}
const parsed = HeatmapParamsSchema.safeParse(overrides);
if (!parsed.success) {
  console.error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  process.exit(2);
}

const { rows, hasLiq } = parseBars(readFileSync(values.bars, 'utf8'));
// A rate (one tier), a symbol with a venue table (BTCUSDT, ETHUSDT) or a tier table as JSON.
const mmArg = values['maintenance-margin'];
const maintenanceMargin = MaintenanceMarginSchema.parse(
  mmArg.startsWith('[') ? JSON.parse(mmArg) : (BINANCE_MAINTENANCE_MARGIN[mmArg] ?? [{ rate: Number(mmArg) }]),
);
const model = createHeatmapModel('EVAL', parsed.data, maintenanceMargin);
const venue = 'aggregate';

let priceLevel: { collector: PriceLevelCollector; opts: PriceLevelOptions; raw: HeatmapModel } | null = null;
if (values.events) {
  const text = values.events.endsWith('.gz') ? gunzipSync(readFileSync(values.events)).toString('utf8') : readFileSync(values.events, 'utf8');
  const split = values.split ? Date.parse(values.split) : null;
  if (split !== null && Number.isNaN(split)) throw new Error(`--split is not a date: ${values.split}`);
  const opts: PriceLevelOptions = {
    events: parseLiquidationEventsCsv(text),
    gapMs: Number(values['gap-min']) * 60_000,
    split,
    boot: { blockLength: Number(values['block-hours']), resamples: Number(values.resamples), seed: Number(values.seed), level: 0.95 },
  };
  // The unsmoothed ladder runs beside the configured one: the two were seen to disagree.
  const raw = createHeatmapModel('EVAL', { ...parsed.data, smoothingBps: 0 }, maintenanceMargin);
  const collector = new PriceLevelCollector(opts, [
    { name: `configured (smoothingBps=${parsed.data.smoothingBps})`, build: (b) => model.build({ markPrice: b.open, now: b.ts }) },
    { name: 'raw (smoothingBps=0)', build: (b) => raw.build({ markPrice: b.open, now: b.ts }) },
  ]);
  priceLevel = { collector, opts, raw };
}
const out: string[] = ['timestamp,pred_long_usd,pred_short_usd'];
const predLong: number[] = [];
const predShort: number[] = [];
const started = performance.now();
for (const [t, r] of rows.entries()) {
  const b = r.bar;
  const pl = t > 0 ? notionalBetween(model, 'long', b.low, b.open) : 0;
  const ps = t > 0 ? notionalBetween(model, 'short', b.open, b.high) : 0;
  predLong.push(pl);
  predShort.push(ps);
  out.push(`${b.ts},${pl.toFixed(2)},${ps.toFixed(2)}`);
  priceLevel?.collector.beforeIngest(b, rows[t - 1]?.bar);
  model.ingest(venue, [b]);
  priceLevel?.raw.ingest(venue, [b]);
}
const elapsedMs = performance.now() - started;
if (values.out) writeFileSync(values.out, out.join('\n') + '\n');

if (!values.quiet) {
  console.log(`bars: ${rows.length} from ${values.bars}; walk-forward ${elapsedMs.toFixed(1)} ms${values.out ? `; predictions -> ${values.out}` : ''}`);
}
if (!hasLiq && !priceLevel) {
  console.log('no liq_long_usd/liq_short_usd columns: nothing to score');
  process.exit(0);
}

const warmupEnd = (rows[0]?.bar.ts ?? 0) + Number(values['warmup-days']) * 86_400_000;
interface Scored {
  model: number[];
  base: number[];
  real: number[];
  swept: number[];
}
function score(side: 'long' | 'short', from: number, to: number): Scored {
  const s: Scored = { model: [], base: [], real: [], swept: [] };
  for (let t = Math.max(1, from); t < to; t++) {
    const r = rows[t];
    const prev = rows[t - 1];
    if (!r || !prev || r.bar.ts < warmupEnd) continue;
    const real = side === 'long' ? r.liqLong : r.liqShort;
    if (real === undefined) continue;
    const b = r.bar;
    const swept = side === 'long' ? (b.open - b.low) / b.open : (b.high - b.open) / b.open;
    if (!(swept > 0)) continue;
    s.model.push((side === 'long' ? predLong[t] : predShort[t]) ?? 0);
    s.base.push(prev.bar.openInterestUsd * swept);
    s.real.push(real);
    s.swept.push(swept);
  }
  return s;
}
const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
const firstScored = rows.findIndex((r) => r.bar.ts >= warmupEnd);
const mid = firstScored < 0 ? rows.length : Math.floor((firstScored + rows.length) / 2);
const report: Record<string, number> = {};
if (hasLiq) for (const [label, from, to] of [
  ['all', 0, rows.length],
  ['first-half', 0, mid],
  ['second-half', mid, rows.length],
] as const) {
  for (const side of ['long', 'short'] as const) {
    const s = score(side, from, to);
    const m = sweptMassScore(s.real.map((realized, i) => ({ range: s.swept[i] ?? 0, predicted: s.model[i] ?? 0, realized })));
    const bl = spearman(s.base, s.real);
    report[`${label}.${side}.delta`] = m - bl;
    if (!values.quiet || label === 'all') {
      console.log(`${label.padEnd(12)} ${side.padEnd(5)} n=${String(s.real.length).padStart(4)}  model spearman ${fmt(m)}  baseline ${fmt(bl)}  delta ${fmt(m - bl)}`);
    }
  }
}
if (hasLiq) {
  const pass = (report['all.long.delta'] ?? -1) >= 0.03 && (report['all.short.delta'] ?? -1) >= 0.03;
  console.log(`target (delta >= 0.03 on each side, all scored bars): ${pass ? 'MET' : 'NOT MET'}`);
}
if (priceLevel) {
  const met = reportPriceLevel(
    priceLevel.collector,
    rows.map((r) => r.bar),
    priceLevel.opts,
  );
  console.log(`price-level target (configured ladder beats the best distance rule by >= 0.1 on each side, interval > 0): ${met ? 'MET' : 'NOT MET'}`);
}
