import { afterEach, describe, expect, it } from 'vitest';
import { correlationInstants } from '../../../src/domain/exposure/correlation.js';
import { SimMarketSource } from '../../../src/market/sim-source.js';
import type { HeatmapStore } from '../../../src/stores/heatmap-store.js';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { configFromEnv } from '../../helpers/config.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { buildHeatmap, clusterAt } from '../../domain/pretrade/factories.js';

/**
 * The demo's market (the simulator at its default bar interval and correlation) seen
 * through POST /risk/portfolio: the marks of twelve hours of simulated history, stored at
 * whole 5-minute instants as the poller's history would hold them, give the measured
 * correlation; correlated longs then stack almost like one position, and a long hedged by
 * a short of the correlated symbol keeps more of its exposure.
 */

const SYMBOLS = ['BTCUSDT', 'ETHUSDT'] as const;
// 11:32 UTC: the last whole 5 minutes is 11:30.
const NOW = Date.UTC(2026, 10, 24, 11, 32);

/** Marks of the demo simulator at the correlation instants (the close of the bar ending at each). */
async function simMarks(): Promise<{ instants: number[]; marks: Record<string, number[]> }> {
  const demo = configFromEnv({});
  const returns = demo.exposure.correlationReturns;
  const interval = demo.market.simBarIntervalMs;
  const bars = Math.ceil(((returns + 2) * 300_000) / interval);
  const sim = new SimMarketSource({ symbols: [...SYMBOLS], venues: ['binanceusdm'], barIntervalMs: interval, seed: demo.market.simSeed, clock: () => NOW, prehistoryBars: bars, retainBars: bars });
  const instants = correlationInstants(NOW, returns);
  const marks: Record<string, number[]> = {};
  for (const s of SYMBOLS) {
    const closeAt = new Map((await sim.fetchBars(s, 'binanceusdm', undefined)).map((b) => [b.ts + interval, b.close]));
    marks[s] = instants.map((t) => {
      const close = closeAt.get(t);
      if (close === undefined) throw new Error(`no ${s} bar ends at ${new Date(t).toISOString()}`);
      return close;
    });
  }
  return { instants, marks };
}

/** A heatmap with a major long cluster 100 bps below the mark and a short one 100 bps above: both sides equally at risk. */
const symmetricHeatmap = (symbol: string, asOf: number, mark: number) =>
  buildHeatmap({ symbol, asOf, markPrice: mark, clusters: [clusterAt('long', 100, {}, mark), clusterAt('short', 100, {}, mark)] });

describe('portfolio risk on the demo simulator', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('when the sim history is measured, then the pair correlates near 0.8, and correlated longs get a lower multiplier than a hedged pair, though above one position of the whole notional', async () => {
    const { instants, marks } = await simMarks();
    let heatmaps: HeatmapStore | undefined;
    t = await buildTestApp({
      clock: manualClock(NOW),
      // One maintenance rate for every size: the venues' tiers would score the 1M position
      // apart from the 500k ones, and this test compares how positions stack, not their size.
      env: { HEATMAP_MAX_AGE_MS: '600000', POLICY_JSON: '{"maintenanceMargin":[{"rate":0.004}]}' },
      stores: (built) => {
        heatmaps = built.heatmaps;
        return {};
      },
      // History is in the store before the app starts (its correlation board measures at start).
      beforeReady: async () => {
        for (const s of SYMBOLS)
          for (const [i, asOf] of instants.entries()) {
            const mark = marks[s]?.[i] as number;
            await heatmaps?.put(buildSnapshot({ symbol: s, asOf, heatmap: symmetricHeatmap(s, asOf, mark) }));
          }
      },
    });
    for (const s of SYMBOLS) {
      const mark = marks[s]?.at(-1) as number;
      await t.publish(buildSnapshot({ symbol: s, asOf: NOW - 1_000, heatmap: symmetricHeatmap(s, NOW - 1_000, mark) }));
    }
    const app = t.app;
    const assess = async (positions: { symbol: string; side: 'long' | 'short'; notional: number }[]) => {
      const res = await app.inject({ method: 'POST', url: '/risk/portfolio', headers: bearer(TEST_KEYS.read), payload: { positions: positions.map((p) => ({ ...p, leverage: 20 })) } });
      expect(res.statusCode).toBe(200);
      return res.json();
    };

    const longs = [
      { symbol: 'BTCUSDT', side: 'long', notional: 500_000 },
      { symbol: 'ETHUSDT', side: 'long', notional: 500_000 },
    ] as const;
    // The board measures in the background once the app has started.
    await expect.poll(async () => (await assess([...longs])).correlations[0].assumed).toBe(false);
    const stacked = await assess([...longs]);
    const [pair] = stacked.correlations;
    expect(pair.n).toBe(144);
    expect(pair.rho).toBeGreaterThan(0.65);
    expect(pair.rho).toBeLessThan(0.95);
    // Two equal longs: D = sqrt((1 + rho) / 2).
    expect(stacked.diversificationRatio).toBeCloseTo(Math.sqrt((1 + pair.rho) / 2), 3);

    const single = await assess([{ symbol: 'BTCUSDT', side: 'long', notional: 1_000_000 }]);
    const hedged = await assess([{ symbol: 'BTCUSDT', side: 'long', notional: 500_000 }, { symbol: 'ETHUSDT', side: 'short', notional: 500_000 }]);
    // Every position scores the same here: only how they stack tells the books apart.
    expect(new Set([...single.positions, ...stacked.positions, ...hedged.positions].map((p: { riskScore: number }) => p.riskScore)).size).toBe(1);
    expect(single.positions[0].riskScore).toBeGreaterThan(0);
    expect(stacked.exposureMultiplier).toBeLessThan(hedged.exposureMultiplier);
    expect(single.exposureMultiplier).toBeLessThan(stacked.exposureMultiplier);
    // Correlated longs sit much nearer one position than a hedge does.
    expect(stacked.exposureMultiplier - single.exposureMultiplier).toBeLessThan((hedged.exposureMultiplier - stacked.exposureMultiplier) / 2);
  });
});
