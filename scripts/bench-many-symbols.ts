/**
 * Many symbols on canned venue answers: requests per minute per venue (against each
 * published limit), CPU and heap per symbol. Run: `node --expose-gc --import tsx scripts/bench-many-symbols.ts [symbols] [venue|models]`.
 * Part 1 polls every symbol on each venue every 5 s for 10 simulated minutes through the
 * ccxt source (ccxt's real parsing, canned REST answers, a local websocket replay for
 * streamed books); part 2 feeds each symbol's heatmap model 3 days of 5m bars from three
 * venues and assembles a snapshot, as a leader does each poll. The canned answers do not
 * advance, so every poll finds the increment to ask for again: request counts are the case
 * where every poll finds a newly closed bar on every symbol (an upper bound).
 */
import { createHeatmapModel, HeatmapParamsSchema } from '../src/domain/heatmap/index.js';
import type { Bar } from '../src/domain/market-data.js';
import { VENUE_PROFILES } from '../src/market/venues/index.js';
import { assembleSnapshot, createAssemblyState } from '../src/modules/heatmaps/snapshot-assembly.js';
import { NOW } from '../test/market/ccxt-fake.js';
import { closeRun, manySymbols, peakInWindow, simulateVenue } from '../test/market/many-symbols-sim.js';

const N = Number(process.argv[2] ?? 100);
/** Only this venue (or `models`); all when absent. One per process gives cleaner heap figures. */
const ONLY = process.argv[3];
const SYMBOLS = manySymbols(N);
const POLL_MS = 5_000;
const MINUTES = 10;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

async function venueRun(venue: string): Promise<void> {
  const before = heap();
  const steadyFrom = NOW + (MINUTES / 2) * 60_000;
  let steadyCpu = 0;
  let steadyPolls = 0;
  const run = await simulateVenue(venue, {
    symbols: SYMBOLS,
    pollMs: POLL_MS,
    minutes: MINUTES,
    onCycle: (startedAt, cpu) => {
      if (startedAt < steadyFrom) return;
      steadyCpu += cpu.user + cpu.system;
      steadyPolls += SYMBOLS.length;
    },
  });
  const held = heap() - before;
  const { h } = run;
  const profile = VENUE_PROFILES[venue]!;
  const reqs = h.venue.requests;
  const steady = reqs.filter((_, i) => h.venue.at[i]! >= steadyFrom);
  const perMin = (list: URL[], minutes: number) => (list.length / minutes).toFixed(0);
  console.log(`\n${venue}: ${N} symbols, ${MINUTES} simulated minutes, books by ${h.source.budgets()[0]!.booksByStream ? 'websocket' : 'REST'}`);
  console.log(`  requests/min: ${perMin(reqs, MINUTES)} over the run (first load included), ${perMin(steady, MINUTES / 2)} in the last ${MINUTES / 2} minutes; history deferred ${run.deferred} times`);
  for (const [name, limit] of Object.entries(profile.requestLimits)) {
    const costs = reqs.map((u) => profile.requestCost(u)[name] ?? 0);
    if (costs.some((c) => c > 0)) console.log(`  ${name}: peak ${peakInWindow(h.venue.at, costs, limit.windowMs)} per ${limit.windowMs / 1000} s (published ${limit.limit})`);
  }
  console.log(`  CPU per symbol-poll (steady): ${(steadyCpu / Math.max(1, steadyPolls)).toFixed(0)} µs; heap held by the source: ${mb(held)} MB (${(held / N / 1024).toFixed(0)} KB per symbol)`);
  await closeRun(run);
}

function bars(n: number, lastCloseAt: number, barMs: number, seed: number): Bar[] {
  return Array.from({ length: n }, (_, i) => {
    const ts = lastCloseAt - (n - i) * barMs;
    const close = 100 * (1 + 0.05 * Math.sin((i + seed) / 50) + 0.01 * Math.sin((i * 7 + seed) / 9));
    return { ts, open: close * 0.999, high: close * 1.003, low: close * 0.997, close, volume: 10, openInterestUsd: 1e8 * (1 + i / 2000 + 0.02 * Math.sin(i / 13)), fundingRate: 0.0001 };
  });
}

function modelRun(): void {
  const params = HeatmapParamsSchema.parse({});
  const barMs = 300_000;
  const venues = ['binanceusdm', 'bybit', 'okx'];
  const before = heap();
  const states = SYMBOLS.map((s) => createAssemblyState(createHeatmapModel(s, params), barMs));
  const tick = { markPrice: 100, orderBook: { ts: NOW, bids: [{ price: 99.9, size: 10 }], asks: [{ price: 100.1, size: 10 }] }, ts: NOW, spec: null };
  const input = (fetched: Parameters<typeof assembleSnapshot>[1]['fetched']) => ({ symbol: 'X', source: 'ccxt' as const, now: NOW, barMaxAgeMs: 3 * barMs + POLL_MS, fetched });
  const cpu0 = process.cpuUsage();
  states.forEach((st, k) => assembleSnapshot(st, input(venues.map((venue, v) => ({ venue, bars: bars(864, NOW, barMs, k * 3 + v), tick, failure: null })))));
  const first = process.cpuUsage(cpu0);
  const held = heap() - before;
  const cpu1 = process.cpuUsage();
  for (const st of states) assembleSnapshot(st, input(venues.map((venue) => ({ venue, bars: [], tick, failure: null }))));
  const poll = process.cpuUsage(cpu1);
  console.log(`\nheatmap models: ${N} symbols × 3 venues × 864 bars (3 days of 5m)`);
  console.log(`  heap: ${mb(held)} MB (${(held / N / 1024).toFixed(0)} KB per symbol)`);
  console.log(`  CPU: first load ${((first.user + first.system) / N / 1000).toFixed(1)} ms per symbol; each later poll ${((poll.user + poll.system) / N / 1000).toFixed(2)} ms per symbol`);
}

for (const venue of Object.keys(VENUE_PROFILES)) if (!ONLY || ONLY === venue) await venueRun(venue);
if (!ONLY || ONLY === 'models') modelRun();
process.exit(0);
