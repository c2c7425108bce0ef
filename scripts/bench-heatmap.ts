/**
 * Heatmap engine benchmark on seeded synthetic data: 30 days of 5-minute bars on 3 venues.
 *
 *   npm run bench:heatmap [-- --days 30 --runs 500 --seed 7]
 *
 * Reports median and p99 of: a cold start (ingest every bar of every venue), a full
 * build() of the heatmap from that state, an incremental one-bar update (ingest one new
 * bar on one venue), and update + build; plus memory per cached heatmap (JSON bytes and
 * heap bytes per retained Heatmap object) and the model's own typed-array state.
 */
import { seededUniform } from '../src/domain/eval/bootstrap.js';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Bar } from '../src/domain/market-data.js';
import { createHeatmapModel, HeatmapParamsSchema, modelMemoryBytes, type Heatmap } from '../src/domain/heatmap/index.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '500' },
    seed: { type: 'string', default: '7' },
  },
});
const DAYS = Number(values.days);
const RUNS = Number(values.runs);
const STEP = 5 * 60_000;
const VENUES = ['binance', 'bybit', 'okx'];
const params = HeatmapParamsSchema.parse({});

const rng = seededUniform;

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** A BTC-like path (about 0.1% sd per 5 minutes), one per venue with its own OI level and noise. */
function synthBars(seed: number, n: number, oiLevel: number, t0: number): Bar[] {
  const r = rng(seed);
  const bars: Bar[] = [];
  let price = 90_000;
  let oi = oiLevel;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = open * Math.exp(0.001 * gauss(r));
    const high = Math.max(open, close) * (1 + Math.abs(0.0006 * gauss(r)));
    const low = Math.min(open, close) * (1 - Math.abs(0.0006 * gauss(r)));
    oi = Math.max(oiLevel * 0.5, oi * (1 + 0.002 * gauss(r)));
    const vol = 50 + 50 * r();
    const buyShare = 0.5 + 0.1 * gauss(r);
    bars.push({
      ts: t0 + i * STEP,
      open,
      high,
      low,
      close,
      volume: vol,
      openInterestUsd: oi,
      fundingRate: 0.0001 + 0.0001 * gauss(r),
      takerBuyVolume: vol * Math.min(1, Math.max(0, buyShare)),
      takerSellVolume: vol * (1 - Math.min(1, Math.max(0, buyShare))),
    });
    price = close;
  }
  return bars;
}

function stats(xs: number[]): { median: number; p99: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] ?? NaN;
  return { median: at(0.5), p99: at(0.99) };
}

const fmtMs = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
function report(label: string, xs: number[]): void {
  const { median, p99 } = stats(xs);
  console.log(`${label.padEnd(44)} median ${fmtMs(median).padStart(10)}   p99 ${fmtMs(p99).padStart(10)}   (n=${xs.length})`);
}

const nBars = Math.round((DAYS * 86_400_000) / STEP);
const t0 = Date.UTC(2026, 0, 1);
const seed = Number(values.seed);
// One extra bar per run per venue for the incremental updates.
const series = VENUES.map((_, v) => synthBars(seed * 100 + v, nBars + RUNS, [4e9, 2.5e9, 1.5e9][v] ?? 1e9, t0));
const history = series.map((s) => s.slice(0, nBars));

console.log(`heatmap bench: ${DAYS} days × 5-minute bars × ${VENUES.length} venues = ${nBars * VENUES.length} bars; default params (ladder ±${params.rangePct * 100}% at ${params.binBps} bps)`);
console.log(`node ${process.version}; command: npm run bench:heatmap -- --days ${DAYS} --runs ${RUNS} --seed ${seed}`);

// Cold start: a fresh model ingests everything (what a restart costs).
const cold: number[] = [];
for (let i = 0; i < Math.max(5, Math.min(20, RUNS / 10)); i++) {
  const t = performance.now();
  const m = createHeatmapModel('BTC', params);
  for (const [v, name] of VENUES.entries()) m.ingest(name, history[v] ?? []);
  cold.push(performance.now() - t);
}

const model = createHeatmapModel('BTC', params);
for (const [v, name] of VENUES.entries()) model.ingest(name, history[v] ?? []);
const lastClose = (): number => history[0]?.[history[0].length - 1]?.close ?? 90_000;

// Warm the JIT before timing.
for (let i = 0; i < 50; i++) model.build({ markPrice: lastClose(), now: t0 + nBars * STEP });
const builds: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  model.build({ markPrice: lastClose(), now: t0 + nBars * STEP });
  builds.push(performance.now() - t);
}

const ingestOne: number[] = [];
const updateAndBuild: number[] = [];
let h: Heatmap | undefined;
for (let i = 0; i < RUNS; i++) {
  const v = i % VENUES.length;
  const bar = series[v]?.[nBars + Math.floor(i / VENUES.length)];
  if (!bar) break;
  const t = performance.now();
  model.ingest(VENUES[v] ?? 'binance', [bar]);
  const t1 = performance.now();
  h = model.build({ markPrice: bar.close, now: bar.ts + STEP });
  const t2 = performance.now();
  ingestOne.push(t1 - t);
  updateAndBuild.push(t2 - t);
}

report('cold start: ingest all bars, 3 venues', cold);
report('full build(): heatmap from 30-day state', builds);
report('incremental update: ingest 1 bar (1 venue)', ingestOne);
report('incremental update + build()', updateAndBuild);

// Memory per cached heatmap: JSON size, and heap retained per Heatmap object.
const json = JSON.stringify(h);
// Expose the collector so the heap figure is retained memory, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;
const keep: Heatmap[] = [];
gc?.();
const heap0 = process.memoryUsage().heapUsed;
const K = 200;
for (let i = 0; i < K; i++) keep.push(model.build({ markPrice: lastClose() * (1 + i * 1e-6), now: t0 + nBars * STEP }));
gc?.();
const heapPer = (process.memoryUsage().heapUsed - heap0) / K;
console.log(`memory per cached heatmap: ${(json.length / 1024).toFixed(1)} KiB as JSON (${h?.bins.length ?? 0} bins, ${h?.clusters.length ?? 0} clusters); ~${(heapPer / 1024).toFixed(1)} KiB heap per Heatmap object${gc ? '' : ' (no --expose-gc: approximate)'}`);
console.log(`model state (grids + OI and funding history, 3 venues): ${(modelMemoryBytes(model) / 1024).toFixed(0)} KiB; retained ${keep.length} heatmaps`);
