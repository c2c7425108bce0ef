/**
 * Does a vulnerable-side read from funding + OI build-up + on-side notional say better than
 * funding alone which side liquidates more next?
 *
 *   npm run eval:vulnerable-side -- --bars FILE.csv [--hours 4] [--band-pct 0.02] [--warmup-days 1] [--set path=value ...]
 *
 * Walk-forward: at each bar's open the model holds earlier bars only. Signals (positive: longs
 * vulnerable): `funding` = the crowding read as the map has it (funding signal × (0.5 + 0.5 ×
 * OI confirmation)), `notional` = (long − short) / (long + short) of the notional liquidating
 * within ±band of the open, `combined` = readVulnerableSide. Target: ln((1 + long liq) /
 * (1 + short liq)) over the next `hours` (windows whose bars all have liq columns).
 * Scores: Spearman(signal, target); hit rate = sign agreement (a zero signal counts half)
 * over windows with a non-zero target, and combined − funding with a moving-block bootstrap
 * interval (blocks of one window length, overlapping windows being dependent).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createHeatmapModel, HeatmapParamsSchema, notionalBetween } from '../src/domain/heatmap/index.js';
import { spearman } from '../src/domain/heatmap/spearman.js';
import { readVulnerableSide } from '../src/domain/heatmap/vulnerable-side.js';
import { blockBootstrapMean } from '../src/domain/eval/bootstrap.js';
import { parseBarsWithLiquidations as parseBars } from './bars-with-liquidations.js';

const { values } = parseArgs({
  options: {
    bars: { type: 'string' },
    hours: { type: 'string', default: '4' },
    'band-pct': { type: 'string', default: '0.02' },
    'warmup-days': { type: 'string', default: '1' },
    set: { type: 'string', multiple: true },
    seed: { type: 'string', default: '1' },
  },
});
if (!values.bars) {
  console.error('usage: npm run eval:vulnerable-side -- --bars FILE.csv [--hours 4] [--band-pct 0.02] [--warmup-days 1]');
  process.exit(2);
}
const overrides: Record<string, unknown> = {};
for (const s of values.set ?? []) {
  const eq = s.indexOf('=');
  let o = overrides;
  const keys = s.slice(0, eq).split('.');
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys[keys.length - 1] ?? ''] = JSON.parse(s.slice(eq + 1)) as unknown;
}
const p = HeatmapParamsSchema.parse(overrides);
const { rows } = parseBars(readFileSync(values.bars, 'utf8'));
const band = Number(values['band-pct']);
const horizonMs = Number(values.hours) * 3_600_000;
const windowMs = p.crowding.windowHours * 3_600_000;
const warmupEnd = (rows[0]?.bar.ts ?? 0) + Number(values['warmup-days']) * 86_400_000;

const model = createHeatmapModel('EVAL', p);
interface Sample {
  ts: number;
  funding: number;
  notional: number;
  combined: number;
  target: number;
}
const samples: Sample[] = [];
let funding = p.funding.neutral;
for (const [t, r] of rows.entries()) {
  const b = r.bar;
  if (t > 0 && b.ts >= warmupEnd) {
    // OI now (the last closed bar) against the last sample at or before the window start.
    const prev = rows[t - 1]?.bar;
    let then = rows[0]?.bar.openInterestUsd ?? 0;
    for (let k = t - 1; k >= 0; k--) {
      const rb = rows[k]?.bar;
      if (rb && rb.ts <= b.ts - windowMs) {
        then = rb.openInterestUsd;
        break;
      }
    }
    const oiChangePct = prev && then > 0 ? (prev.openInterestUsd - then) / then : 0;
    const longNearUsd = notionalBetween(model, 'long', b.open * (1 - band), b.open);
    const shortNearUsd = notionalBetween(model, 'short', b.open, b.open * (1 + band));
    const read = readVulnerableSide({ fundingRate: funding, oiChangePct, longNearUsd, shortNearUsd }, p);
    let L = 0;
    let S = 0;
    let complete = true;
    let k = t;
    for (; k < rows.length && (rows[k]?.bar.ts ?? Infinity) < b.ts + horizonMs; k++) {
      const w = rows[k];
      if (w?.liqLong === undefined || w.liqShort === undefined) complete = false;
      L += w?.liqLong ?? 0;
      S += w?.liqShort ?? 0;
    }
    const reachesEnd = k < rows.length;
    if (complete && reachesEnd) {
      samples.push({
        ts: b.ts,
        funding: read.funding * (0.5 + 0.5 * read.confirm),
        notional: read.notional,
        combined: read.score,
        target: Math.log((1 + L) / (1 + S)),
      });
    }
  }
  model.ingest('v', [b]);
  if (b.fundingRate !== undefined) funding = b.fundingRate;
}

const signals = ['funding', 'notional', 'combined'] as const;
const hit = (s: number, y: number): number => (s === 0 ? 0.5 : Math.sign(s) === Math.sign(y) ? 1 : 0);
const withTarget = samples.filter((s) => s.target !== 0);
const barsPerWindow = Math.max(1, Math.round(horizonMs / Math.max(1, (rows[1]?.bar.ts ?? 0) - (rows[0]?.bar.ts ?? 0))));
console.log(`bars ${rows.length}, windows ${samples.length} (${withTarget.length} with a non-zero target), next ${values.hours} h, band ±${band * 100}%`);
const longMore = withTarget.filter((s) => s.target > 0).length;
// The hindsight base rate: always naming the side that liquidated more over the whole file.
console.log(`longs liquidated more in ${longMore} of ${withTarget.length} windows (always naming the majority side: hit rate ${(Math.max(longMore, withTarget.length - longMore) / Math.max(1, withTarget.length)).toFixed(3)})`);
for (const name of signals) {
  const xs = samples.map((s) => s[name]);
  const ys = samples.map((s) => s.target);
  const hits = withTarget.map((s) => hit(s[name], s.target));
  const called = withTarget.filter((s) => Math.abs(s[name]) >= p.crowding.neutralBelow);
  const calledHits = called.map((s) => hit(s[name], s.target));
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  console.log(
    `${name.padEnd(9)} spearman ${spearman(xs, ys).toFixed(3)}  hit rate ${mean(hits).toFixed(3)}  ` +
      `called (|signal| >= ${p.crowding.neutralBelow}) ${called.length}: hit rate ${mean(calledHits).toFixed(3)}`,
  );
}
const boot = { blockLength: barsPerWindow, resamples: 2000, seed: Number(values.seed), level: 0.95 };
for (const other of ['funding', 'notional'] as const) {
  const d = withTarget.map((s) => hit(s.combined, s.target) - hit(s[other], s.target));
  const iv = blockBootstrapMean(d, boot);
  console.log(`combined − ${other} hit rate ${iv.mean.toFixed(3)} [${iv.lo.toFixed(3)}, ${iv.hi.toFixed(3)}] (block ${barsPerWindow} bars)`);
}
const half = Math.floor(withTarget.length / 2);
for (const [label, part] of [['first half', withTarget.slice(0, half)], ['second half', withTarget.slice(half)]] as const) {
  const rate = (name: (typeof signals)[number]) => (part.reduce((a, s) => a + hit(s[name], s.target), 0) / Math.max(1, part.length)).toFixed(3);
  console.log(`${label}: hit rate funding ${rate('funding')}, notional ${rate('notional')}, combined ${rate('combined')} (${part.length} windows)`);
}
