/**
 * Demo probe: does the simulator give the heatmap model clusters on both sides, and do
 * they change over a demo minute? For N start times it builds the simulator (default
 * venues, 3 s bars, seed 42), feeds the pre-history into the model with default params,
 * counts which sides have clusters (and major ones), then advances the clock 20 bars,
 * feeds the new bars and checks whether the clusters moved.
 *
 *   npx tsx scripts/probe-demo.ts [N=40] [SYMBOL,SYMBOL…=BTCUSDT,ETHUSDT] [seed=42]
 */
import { createHeatmapModel, HeatmapParamsSchema, type Heatmap } from '../src/domain/heatmap/index.js';
import { SimMarketSource } from '../src/market/sim-source.js';

const N = Number(process.argv[2] ?? 40);
const symbols = (process.argv[3] ?? 'BTCUSDT,ETHUSDT').split(',');
const seed = Number(process.argv[4] ?? 42);
const VENUES = ['binanceusdm', 'bybit', 'okx'];
const INTERVAL = 3_000;
const params = HeatmapParamsSchema.parse({});

const summary = (h: Heatmap): string =>
  h.clusters.map((c) => `${c.side}:${c.peakPrice.toFixed(2)}:${c.notionalUsd.toExponential(3)}`).join('|');

/** The largest cluster of some side moved its peak by >= 10 bps or changed notional by >= 5 %. */
function moved(a: Heatmap, b: Heatmap): boolean {
  return (['long', 'short'] as const).some((side) => {
    const x = a.clusters.find((c) => c.side === side);
    const y = b.clusters.find((c) => c.side === side);
    if (!x || !y) return x !== y;
    return Math.abs(y.peakPrice / x.peakPrice - 1) >= 0.001 || Math.abs(y.notionalUsd / x.notionalUsd - 1) >= 0.05;
  });
}

for (const symbol of symbols) {
  const tally = { N, both: 0, longOnly: 0, shortOnly: 0, none: 0, majL: 0, majS: 0, changedIn20Bars: 0, movedIn20Bars: 0, bothAfter20Bars: 0 };
  for (let i = 0; i < N; i++) {
    let now = Date.UTC(2026, 10, 24, 15, 0, 0) + i * 7_777_777;
    const src = new SimMarketSource({ symbols: [symbol], venues: VENUES, barIntervalMs: INTERVAL, seed, clock: () => now });
    const model = createHeatmapModel(symbol, params);
    const build = async (): Promise<Heatmap> => {
      for (const v of src.venues(symbol)) model.ingest(v, await src.fetchBars(symbol, v, model.lastBarTs(v)));
      const tick = await src.fetchTick(symbol, VENUES[0] as string);
      return model.build({ markPrice: tick.markPrice, now });
    };
    const h = await build();
    const long = h.clusters.some((c) => c.side === 'long');
    const short = h.clusters.some((c) => c.side === 'short');
    if (h.clusters.some((c) => c.side === 'long' && c.major)) tally.majL++;
    if (h.clusters.some((c) => c.side === 'short' && c.major)) tally.majS++;
    if (long && short) tally.both++;
    else if (long) tally.longOnly++;
    else if (short) tally.shortOnly++;
    else tally.none++;
    now += 20 * INTERVAL;
    const later = await build();
    if (summary(later) !== summary(h)) tally.changedIn20Bars++;
    if (moved(h, later)) tally.movedIn20Bars++;
    if (later.clusters.some((c) => c.side === 'long') && later.clusters.some((c) => c.side === 'short')) tally.bothAfter20Bars++;
    await src.close();
  }
  console.log(symbol, JSON.stringify(tally));
}
