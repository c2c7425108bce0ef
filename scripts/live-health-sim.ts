/**
 * The live model health on the simulator: the real poller, fed by the simulator's bars and
 * its own realized liquidations, on a manual clock (no waiting), printing the health and
 * confidence the maps carry every hour (docs/model.md, "Live health and confidence").
 *
 *   npx tsx scripts/live-health-sim.ts [--period-minutes 1] [--hours 3] [--seed 42]
 *
 * Three venues, 3 s bars (the simulator's default compression), a poll every 2 s.
 */
import { parseArgs } from 'node:util';
import { HeatmapParamsSchema } from '../src/domain/heatmap/index.js';
import { DEFAULT_MAINTENANCE_MARGIN } from '../src/domain/margin.js';
import { createLogger } from '../src/logger.js';
import { SimMarketSource } from '../src/market/sim-source.js';
import { SymbolPoller } from '../src/modules/heatmaps/poller.js';
import type { HeatmapSnapshot } from '../src/stores/heatmap-store.js';
import { createMemoryHeatmapStore } from '../src/stores/heatmap-store.memory.js';
import { createMemoryLeases } from '../src/stores/lease.memory.js';

const { values } = parseArgs({
  options: { 'period-minutes': { type: 'string', default: '1' }, hours: { type: 'string', default: '3' }, seed: { type: 'string', default: '42' } },
});
const POLL_MS = 2_000;
const BAR_MS = 3_000;
let now = Date.UTC(2026, 0, 6, 11, 0, 0);
const clock = () => now;
const source = new SimMarketSource({ symbols: ['BTCUSDT'], venues: ['binanceusdm', 'bybit', 'okx'], barIntervalMs: BAR_MS, seed: Number(values.seed), clock });
let last: HeatmapSnapshot | undefined;
const poller = new SymbolPoller({
  symbol: 'BTCUSDT',
  source,
  store: createMemoryHeatmapStore({ retentionMs: 3_600_000, intervalMs: 60_000, maxEntries: 100 }),
  leases: createMemoryLeases({ instanceId: 'script', ttlMs: 1e12 }),
  params: HeatmapParamsSchema.parse({ health: { periodMinutes: Number(values['period-minutes']) } }),
  maintenanceMargin: DEFAULT_MAINTENANCE_MARGIN,
  clock,
  logger: createLogger('silent'),
  pollIntervalMs: POLL_MS,
  venueHealth: { baseBackoffMs: POLL_MS, maxBackoffMs: 60_000, failureThreshold: 5, cooldownMs: 30_000 },
  venueTimeoutMs: 10_000,
  barMs: BAR_MS,
  barMaxAgeMs: 3 * BAR_MS + POLL_MS,
  onSnapshot: (s) => {
    last = s;
  },
  random: () => 0.5,
});
const polls = (Number(values.hours) * 3_600_000) / POLL_MS;
const r3 = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
for (let i = 1; i <= polls; i++) {
  await poller.step();
  now += POLL_MS;
  if (i % (3_600_000 / POLL_MS) === 0 && last) {
    const h = last.health;
    const c = last.confidence;
    console.log(
      `${new Date(now).toISOString()} ${h?.status ?? 'n/a'} swept mass ${r3(h?.sweptMass)} price level ${r3(h?.priceLevel)} events ${h?.events ?? 0} periods ${h?.periods ?? 0}` +
        ` | confidence ${r3(c?.value)} (unlocated ${r3(c?.unlocatedShare)}, venues ${r3(c?.venueCoverage)}, accuracy ${r3(c?.accuracy)})`,
    );
  }
}
await poller.stop();
