/**
 * How much the simulator's realized liquidations move the model in a demo: the sim's
 * pre-history and then `--bars` more bars polled `--polls` times a bar (as the poller does:
 * 3 s bars, a poll every 1.5 s by default), each poll's new events fed to the model after
 * its bars. Prints events and USD reported and where the model found them: already swept
 * by their bar's wick, in located cohorts, or in the unlocated pool.
 *
 *   npx tsx scripts/measure-realized-sim.ts [--symbol BTCUSDT] [--bars 1200] [--polls 2] [--seed 42]
 */
import { parseArgs } from 'node:util';
import { createHeatmapModel, HeatmapParamsSchema } from '../src/domain/heatmap/index.js';
import { SimMarketSource } from '../src/market/sim-source.js';

const { values } = parseArgs({ options: { symbol: { type: 'string', default: 'BTCUSDT' }, bars: { type: 'string', default: '1200' }, seed: { type: 'string', default: '42' }, polls: { type: 'string', default: '2' } } });
const INTERVAL = 3_000;
const symbol = values.symbol;
let now = Date.UTC(2026, 10, 24, 15, 0, 0);
const sim = new SimMarketSource({ symbols: [symbol], venues: ['binanceusdm', 'bybit', 'okx'], barIntervalMs: INTERVAL, seed: Number(values.seed), clock: () => now });
const model = createHeatmapModel(symbol, HeatmapParamsSchema.parse({}));
const seen = new Map<string, number>();
const total = { events: 0, usd: 0, applied: 0, skipped: 0, sweptUsd: 0, locatedUsd: 0, unlocatedUsd: 0 };
const polls = Number(values.polls);
for (let i = 0; i <= Number(values.bars) * polls; i++) {
  for (const v of sim.venues(symbol)) {
    model.ingest(v, await sim.fetchBars(symbol, v, model.lastBarTs(v)));
    const events = await sim.fetchLiquidations(symbol, v, seen.get(v));
    if (events.length === 0) continue;
    seen.set(v, events[events.length - 1]!.ts);
    if (i === 0) continue; // the pre-history: older than the bars just ingested
    const done = model.applyLiquidations(v, events);
    total.events += events.length;
    total.usd += events.reduce((s, e) => s + e.usd, 0);
    total.applied += done.applied;
    total.skipped += done.skipped;
    total.sweptUsd += done.sweptUsd;
    total.locatedUsd += done.locatedUsd;
    total.unlocatedUsd += done.unlocatedUsd;
  }
  now += INTERVAL / polls;
}
const m = (x: number) => `${(x / 1e6).toFixed(1)}M`;
const pct = (x: number) => `${((100 * x) / total.usd).toFixed(1)}%`;
const oi = model.build({ markPrice: (await sim.fetchTick(symbol, 'binanceusdm')).markPrice, now }).openInterestUsd;
console.log(
  `${symbol}, ${values.bars} bars after the pre-history: ${total.events} events (${total.applied} applied, ${total.skipped} skipped), ${m(total.usd)} USD reported; ` +
    `already swept by their bar ${m(total.sweptUsd)} (${pct(total.sweptUsd)}), taken from located cohorts ${m(total.locatedUsd)} (${pct(total.locatedUsd)}), ` +
    `from the unlocated pool ${m(total.unlocatedUsd)} (${pct(total.unlocatedUsd)}), not found ${pct(total.usd - total.sweptUsd - total.locatedUsd - total.unlocatedUsd)}; open interest now ${m(oi)}`,
);
