import { describe, expect, it } from 'vitest';
import type { Cluster, Heatmap } from '../../../src/domain/heatmap/types.js';
import { buildCluster, buildHeatmap, buildMaintenanceMargin, MARK, NOW } from '../pretrade/factories.js';
import { PretradePolicySchema } from '../../../src/domain/pretrade/index.js';
import { runBacktest, type BacktestBar } from '../../../src/domain/eval/backtest.js';
import { linearBook, pretradeGate, type MarketAt } from '../../../src/domain/eval/pretrade-gate.js';

const BOOK = { halfSpreadBps: 0.5, depthUsdPerBps: 2e6 };
/** A major long zone from 5 bps below the mark to 5 bps above: the mark is inside it. */
const AROUND_MARK = buildCluster({ priceLow: MARK * 0.9995, priceHigh: MARK * 1.0005, distanceBps: 0 });

const heatmapWith = (clusters: Cluster[]): Heatmap => buildHeatmap({ asOf: NOW, clusters });

function gateOver(marketAt: MarketAt) {
  return pretradeGate({ symbol: 'BTCUSDT', leverage: 10, policy: PretradePolicySchema.parse({}), maintenanceMargin: buildMaintenanceMargin(), maxHeatmapAgeMs: 60_000, marketAt });
}

const calm: MarketAt = () => ({ heatmap: heatmapWith([]), orderBook: linearBook(BOOK, MARK, NOW), now: NOW });
const atCluster: MarketAt = () => ({ heatmap: heatmapWith([AROUND_MARK]), orderBook: linearBook(BOOK, MARK, NOW), now: NOW });

describe('pretradeGate (the real evaluatePretrade)', () => {
  it('when no cluster is near and the book is deep, then the order is approved in full', () => {
    expect(gateOver(calm)(0, 'long', 250_000)).toEqual({ approvedNotionalUsd: 250_000, reasons: [] });
  });

  it('when the mark sits inside a major cluster, then nothing is approved and the buffer rule says why', () => {
    const a = gateOver(atCluster)(0, 'short', 250_000);
    expect(a.approvedNotionalUsd).toBe(0);
    expect(a.reasons).toContain('NO_TRADE_BUFFER');
  });

  it('when there is no market at all, then nothing is approved (fail closed)', () => {
    expect(gateOver(() => null)(0, 'long', 250_000)).toEqual({ approvedNotionalUsd: 0, reasons: ['HEATMAP_STALE'] });
  });

  it('when the backtest runs through it with a cluster at one decision, then exactly that order is refused', () => {
    const bars: BacktestBar[] = Array.from({ length: 6 }, (_, i) => ({ ts: i, open: MARK, high: MARK, low: MARK, close: MARK, liqLongUsd: 0, liqShortUsd: 0 }));
    const marketAt: MarketAt = (i) => (i === 3 ? atCluster(i) : calm(i));
    const r = runBacktest(bars, { everyBars: 2, holdBars: 2, lookbackBars: 1, notionalUsd: 250_000, leverage: 10, maintenanceMargin: buildMaintenanceMargin(), book: BOOK, cvarShare: 0.05 }, gateOver(marketAt));
    expect(r.ungated.trades).toBe(2);
    expect(r.gated.trades).toBe(1);
    expect(r.refused.rejected).toBe(1);
  });
});

describe('linearBook', () => {
  it('when built, then each level holds depthUsdPerBps of notional, one bps apart from the half spread out', () => {
    const b = linearBook({ halfSpreadBps: 1, depthUsdPerBps: 1e6 }, 100_000, 0, 3);
    expect(b.bids.map((l) => l.price)).toEqual([99_990, 99_980, 99_970]);
    expect(b.asks.map((l) => l.price)).toEqual([100_010, 100_020, 100_030]);
    expect(b.asks[0]!.size * 100_000).toBeCloseTo(1e6, 6);
  });
});
