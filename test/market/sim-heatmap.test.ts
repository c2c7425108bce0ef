import { describe, expect, it } from 'vitest';
import { createHeatmapModel, HeatmapParamsSchema, type Heatmap } from '../../src/domain/heatmap/index.js';
import type { Bar } from '../../src/domain/market-data.js';
import type { SimSourceOptions } from '../../src/market/sim-source.js';
import { buildClock, buildSimAt, INTERVAL } from './sim-factories.js';

// What the demo shows: the sim's bars fed to the heatmap model with default params.
const START = Date.UTC(2026, 10, 24, 15, 0, 0);
const params = HeatmapParamsSchema.parse({});

function buildSim(overrides: Partial<SimSourceOptions> = {}): ReturnType<typeof buildSimAt> {
  return buildSimAt(START, overrides);
}

/** A demo in miniature: the sim, a model fed incrementally, and a map at the clock. */
function buildDemo(symbol: string, start: number) {
  const clock = buildClock(start);
  const sim = buildSim({ symbols: [symbol], clock: clock.now });
  const model = createHeatmapModel(symbol, params);
  return {
    clock,
    async heatmap(): Promise<Heatmap> {
      for (const v of sim.venues(symbol)) model.ingest(v, await sim.fetchBars(symbol, v, model.lastBarTs(v)));
      const tick = await sim.fetchTick(symbol, 'binanceusdm');
      return model.build({ markPrice: tick.markPrice, now: clock.now() });
    },
  };
}

const starts = Array.from({ length: 6 }, (_, i) => START + i * 7_777_777);
const hasSide = (h: Heatmap, side: 'long' | 'short', major = false) =>
  h.clusters.some((c) => c.side === side && (!major || c.major));

describe('simulator as seen by the heatmap model', () => {
  for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
    it(`when the ${symbol} pre-history is fed to the heatmap model, then clusters appear on both sides at almost every start`, async () => {
      let both = 0;
      let majorLong = 0;
      let majorShort = 0;
      for (const t of starts) {
        const h = await buildDemo(symbol, t).heatmap();
        if (hasSide(h, 'long') && hasSide(h, 'short')) both++;
        if (hasSide(h, 'long', true)) majorLong++;
        if (hasSide(h, 'short', true)) majorShort++;
      }
      expect(both).toBeGreaterThanOrEqual(5);
      expect(majorLong).toBeGreaterThanOrEqual(3);
      expect(majorShort).toBeGreaterThanOrEqual(3);
    });
  }

  it('when a demo minute passes (20 bars), then the clusters move', async () => {
    let moved = 0;
    for (const t of starts) {
      const demo = buildDemo('BTCUSDT', t);
      const before = await demo.heatmap();
      demo.clock.advance(20 * INTERVAL);
      const after = await demo.heatmap();
      const changed = (['long', 'short'] as const).some((side) => {
        const a = before.clusters.find((c) => c.side === side);
        const b = after.clusters.find((c) => c.side === side);
        if (!a || !b) return a !== b;
        return Math.abs(b.peakPrice / a.peakPrice - 1) >= 0.001 || Math.abs(b.notionalUsd / a.notionalUsd - 1) >= 0.05;
      });
      if (changed) moved++;
    }
    expect(moved).toBeGreaterThanOrEqual(4);
  });

  it('when pre-histories from many starts are compared, then the price goes both ways with no systematic trend', async () => {
    const moves: number[] = [];
    for (let i = 0; i < 16; i++) {
      const bars = await buildSim({ symbols: ['BTCUSDT'], clock: () => START + i * 7_777_777 }).fetchBars('BTCUSDT', 'okx', undefined);
      moves.push(Math.log((bars.at(-1) as Bar).close / (bars[0] as Bar).open));
    }
    const ups = moves.filter((m) => m > 0).length;
    expect(ups).toBeGreaterThanOrEqual(4);
    expect(ups).toBeLessThanOrEqual(12);
    expect(Math.abs(moves.reduce((s, m) => s + m, 0) / moves.length)).toBeLessThan(0.05);
  });

  it('when the sim runs for months of its time, then the price keeps returning toward its profile level', async () => {
    const bars = await buildSim({ symbols: ['BTCUSDT'], prehistoryBars: 30_000 }).fetchBars('BTCUSDT', 'binanceusdm', undefined);
    const closes = bars.map((b) => b.close).sort((a, b) => a - b);
    // BTCUSDT's profile price is 95,000; 30,000 bars are about 100 days at the 5-minute scale.
    expect(closes[Math.floor(closes.length / 2)]).toBeGreaterThan(95_000 * 0.8);
    expect(closes[Math.floor(closes.length / 2)]).toBeLessThan(95_000 * 1.25);
    expect(closes[0]).toBeGreaterThan(95_000 * 0.5);
    expect(closes.at(-1)).toBeLessThan(95_000 * 2);
  });
});
