import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHeatmapModel, HeatmapParamsSchema } from '../../../src/domain/heatmap/index.js';
import type { Bar, RealizedLiquidation } from '../../../src/domain/market-data.js';
import { DEFAULT_MAINTENANCE_MARGIN } from '../../../src/domain/margin.js';
import type { ModelHealth } from '../../../src/domain/model-health/index.js';
import { createLogger } from '../../../src/logger.js';
import { formatBarsCsv } from '../../../src/market/bars-csv.js';
import { formatLiquidationsCsv } from '../../../src/market/liquidations-csv.js';
import { Prng } from '../../../src/market/prng.js';
import { REPLAY_VENUE, ReplayMarketSource } from '../../../src/market/replay-source.js';
import { SymbolPoller } from '../../../src/modules/heatmaps/poller.js';
import type { HeatmapSnapshot } from '../../../src/stores/heatmap-store.js';
import { createMemoryHeatmapStore } from '../../../src/stores/heatmap-store.memory.js';
import { createMemoryLeases } from '../../../src/stores/lease.memory.js';
import { manualClock } from '../../helpers/app.js';

/**
 * End to end through the real replay source and poller: a recording whose liquidations
 * file puts each event where the model's own ladder has mass, replayed once as recorded and
 * once with every event 200 bps higher (a ladder off by 200 bps). The service's live health
 * is healthy on the first and falls on the second.
 */

const BAR_MS = 300_000;
const PERIOD_MS = 60_000;
const PERIODS = 24;
const SHIFT_BPS = 200;
const PARAMS = HeatmapParamsSchema.parse({ health: { periodMinutes: PERIOD_MS / 60_000, windowPeriods: 50, minEvents: 20 } });
const START = Date.UTC(2026, 0, 6, 11, 0, 0);

/** Two days of 5-minute bars with a wandering price and a growing open interest. */
function buildBars(): Bar[] {
  const rng = new Prng(3, 'replay-bars');
  const bars: Bar[] = [];
  let price = 100_000;
  for (let i = 0; i < 576; i++) {
    const open = price;
    price = open * (1 + (rng.next() - 0.5) * 0.006);
    const high = Math.max(open, price) * (1 + rng.next() * 0.002);
    const low = Math.min(open, price) * (1 - rng.next() * 0.002);
    bars.push({ ts: Date.UTC(2025, 0, 1) + i * BAR_MS, open, high, low, close: price, volume: 100, openInterestUsd: 1e9 * (1 + i / 2_000), fundingRate: 0.0001 });
  }
  return bars;
}

/**
 * Per period, a traded range around the last close and liquidations in it: each bin of the
 * range that the side could liquidate in gets, more often than not, an event sized by the
 * ladder's notional there (a faithful ladder). Times are in the file's clock, after the bars.
 */
function buildEvents(bars: readonly Bar[], firstEventAt: number): RealizedLiquidation[] {
  const last = bars[bars.length - 1]!;
  const model = createHeatmapModel('BTCUSDT', PARAMS);
  model.ingest(REPLAY_VENUE, bars);
  const ladder = model.build({ markPrice: last.close, now: last.ts + BAR_MS });
  const half = (ladder.bins.length - 1) / 2;
  const rng = new Prng(5, 'replay-events');
  const events: RealizedLiquidation[] = [];
  for (let p = 0; p < PERIODS; p++) {
    const kLow = -5 - Math.round(rng.next() * 40);
    const kHigh = 5 + Math.round(rng.next() * 40);
    for (let k = kLow; k <= kHigh; k++) {
      const bin = ladder.bins[half + k]!;
      const side = k <= 0 ? 'long' : 'short';
      const mass = side === 'long' ? bin.longUsd : bin.shortUsd;
      if (!(mass > 0) || rng.next() < 0.3) continue;
      // A thousandth of the bin: the model takes each event off its book, and must not be emptied by them.
      events.push({ ts: firstEventAt + p * PERIOD_MS + 1_000 + Math.floor(rng.next() * 20_000), side, price: bin.price, usd: mass * 1e-3 * (0.5 + rng.next()) });
    }
  }
  return events;
}

/** Polls a replay of `dir` every half period for PERIODS periods; the last map written. */
async function replay(dir: string): Promise<HeatmapSnapshot | undefined> {
  const clock = manualClock(START);
  const source = await ReplayMarketSource.create({ dir, symbols: ['BTCUSDT'], clock });
  const written: HeatmapSnapshot[] = [];
  const poller = new SymbolPoller({
    symbol: 'BTCUSDT',
    source,
    store: createMemoryHeatmapStore({ retentionMs: 86_400_000, intervalMs: 60_000, maxEntries: 1_441 }),
    leases: createMemoryLeases({ instanceId: 'me', ttlMs: 15_000 }),
    params: PARAMS,
    maintenanceMargin: DEFAULT_MAINTENANCE_MARGIN,
    clock,
    logger: createLogger('silent'),
    pollIntervalMs: PERIOD_MS / 2,
    venueHealth: { baseBackoffMs: 5_000, maxBackoffMs: 60_000, failureThreshold: 3, cooldownMs: 30_000 },
    venueTimeoutMs: 5_000,
    barMs: undefined,
    barMaxAgeMs: Number.POSITIVE_INFINITY,
    onSnapshot: (s) => written.push(s),
    random: () => 0.5,
  });
  try {
    for (let i = 0; i <= 2 * PERIODS; i++) {
      await poller.step();
      clock.advance(PERIOD_MS / 2);
    }
  } finally {
    await poller.stop();
    await source.close();
  }
  return written[written.length - 1];
}

const replayHealth = async (dir: string): Promise<ModelHealth | undefined> => (await replay(dir))?.health;

describe('live model health on a replay with realized liquidations', () => {
  const dirs: string[] = [];
  let asRecorded: string;
  let shifted: string;

  beforeAll(() => {
    const bars = buildBars();
    // The replay shifts the file so the newest bar closes at the clock's last 5-minute mark; events after it come out as the clock reaches them.
    const newestClose = bars[bars.length - 1]!.ts + BAR_MS;
    const firstEventAt = newestClose + (START - Math.floor(START / BAR_MS) * BAR_MS);
    const events = buildEvents(bars, firstEventAt);
    const write = (evs: readonly RealizedLiquidation[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'liqgate-health-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'BTCUSDT.csv'), formatBarsCsv(bars));
      writeFileSync(join(dir, 'BTCUSDT.liquidations.csv'), formatLiquidationsCsv(evs));
      return dir;
    };
    asRecorded = write(events);
    shifted = write(events.map((e) => ({ ...e, price: e.price * (1 + SHIFT_BPS / 1e4) })));
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('when the liquidations fall where the ladder said, then the map reports a healthy model with high scores', async () => {
    const h = await replayHealth(asRecorded);
    expect(h).toMatchObject({ status: 'healthy' });
    expect(h!.events).toBeGreaterThanOrEqual(20);
    expect(h!.priceLevel).toBeGreaterThan(0.5);
    expect(h!.sweptMass).toBeGreaterThan(0.5);
  });

  it(`when the same liquidations are replayed ${SHIFT_BPS} bps off the ladder, then health falls: lower scores, degraded`, async () => {
    const right = await replay(asRecorded);
    const off = await replay(shifted);
    expect(off?.health?.status).toBe('degraded');
    expect(off!.health!.priceLevel!).toBeLessThan(right!.health!.priceLevel! - 0.3);
    // ...and the map's confidence falls with it (the accuracy part), which the gate turns into a wider buffer and smaller sizes.
    expect(right?.confidence?.accuracy).toBe(1);
    expect(off!.confidence!.accuracy).toBeLessThan(PARAMS.health.unknownAccuracy);
    expect(off!.confidence!.value).toBeLessThan(right!.confidence!.value);
  });
});
