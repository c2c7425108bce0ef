import { describe, expect, it } from 'vitest';
import { correlate, correlationInstants, logReturns, CORRELATION_BAR_MS } from '../../../src/domain/exposure/correlation.js';
import { portfolioRisk, positionRisk, type PortfolioPosition } from '../../../src/domain/exposure/portfolio.js';
import { buildHeatmap, clusterAt, MARK } from '../pretrade/factories.js';

const MMR = 0.004;
const position = (overrides: Partial<PortfolioPosition> = {}): PortfolioPosition => ({ symbol: 'BTCUSDT', side: 'long', notional: 1_000_000, ...overrides });
const fixed = (rho: number) => () => ({ rho, n: 100, assumed: false });

describe('position risk', () => {
  it('when a long has a major long cluster 100 bps below, then that is its danger zone and 10x leverage liquidates inside the cascade', () => {
    const heatmap = buildHeatmap({ clusters: [clusterAt('long', 100, {}, MARK, 200), clusterAt('short', 50)] });
    const r = positionRisk(position({ leverage: 10 }), heatmap, MMR, 10);
    expect(r.dangerZone?.distanceBps).toBe(100);
    // 10x: liquidation about 960 bps below, beyond the far edge at 300 bps: outside the cascade.
    expect(r.liquidationInsideCascade).toBe(false);
    const tight = positionRisk(position({ leverage: 50 }), heatmap, MMR, 10);
    // 50x: about 160 bps below, nearer the mark than the far edge.
    expect(tight.liquidationInsideCascade).toBe(true);
    expect(tight.riskScore).toBeGreaterThan(r.riskScore);
  });

  it('when only the other side has major clusters, then the position has no danger zone and scores 0', () => {
    const heatmap = buildHeatmap({ clusters: [clusterAt('short', 20)] });
    const r = positionRisk(position(), heatmap, MMR, 10);
    expect(r.dangerZone).toBeNull();
    expect(r.riskScore).toBe(0);
  });
});

describe('portfolio risk', () => {
  const heatmap = buildHeatmap({ clusters: [clusterAt('long', 100), clusterAt('short', 100)] });
  const book = (rho: number) =>
    portfolioRisk([positionRisk(position(), heatmap, MMR, 10), positionRisk(position({ symbol: 'ETHUSDT' }), heatmap, MMR, 10)], fixed(rho));

  it('when long BTC and long ETH correlate at 0.9, then the multiplier is lower than at 0', () => {
    const high = book(0.9);
    const none = book(0);
    expect(high.exposureMultiplier).toBeLessThan(none.exposureMultiplier);
    expect(high.systemicScore).toBeGreaterThan(none.systemicScore);
    expect(high.diversificationRatio).toBeCloseTo(Math.sqrt(3.8) / 2, 3);
    expect(none.diversificationRatio).toBeCloseTo(Math.SQRT1_2, 3);
  });

  it('when a long is hedged by a correlated short, then the book diversifies instead of stacking', () => {
    const hedged = portfolioRisk([positionRisk(position(), heatmap, MMR, 10), positionRisk(position({ symbol: 'ETHUSDT', side: 'short' }), heatmap, MMR, 10)], fixed(0.9));
    expect(hedged.exposureMultiplier).toBeGreaterThan(book(0.9).exposureMultiplier);
  });

  it('when the correlation is only assumed (too little history), then same-direction positions stack fully and a hedge earns no credit', () => {
    const assumed = () => ({ rho: 1, n: 3, assumed: true });
    const long = positionRisk(position(), heatmap, MMR, 10);
    const stacked = portfolioRisk([long, positionRisk(position({ symbol: 'ETHUSDT' }), heatmap, MMR, 10)], assumed);
    expect(stacked.diversificationRatio).toBe(1);
    const hedged = portfolioRisk([long, positionRisk(position({ symbol: 'ETHUSDT', side: 'short' }), heatmap, MMR, 10)], assumed);
    // Counted as unrelated (rho 0), not as a perfect hedge (which would give 0).
    expect(hedged.diversificationRatio).toBeCloseTo(Math.SQRT1_2, 3);
    expect(hedged.correlations).toEqual([{ a: 'BTCUSDT', b: 'ETHUSDT', rho: 1, n: 3, assumed: true }]);
  });

  it('when the book is empty, then nothing needs scaling', () => {
    expect(portfolioRisk([], fixed(1))).toMatchObject({ systemicScore: 0, exposureMultiplier: 1 });
  });

  it('the multiplier stays within 0..1', () => {
    const worst = portfolioRisk([positionRisk(position({ leverage: 100 }), buildHeatmap({ clusters: [clusterAt('long', 0)] }), MMR, 10)], fixed(1));
    expect(worst.exposureMultiplier).toBeGreaterThanOrEqual(0);
    expect(worst.exposureMultiplier).toBeLessThan(1);
  });
});

describe('correlation', () => {
  it('when two series move together, then rho is near 1; when one is its mirror, near -1', () => {
    const a = [100, 101, 100.5, 102, 101, 103, 102.5, 104];
    const b = a.map((x) => x * 40);
    const c = a.map((x) => 10_000 / x);
    expect(correlate(logReturns(a), logReturns(b), 3).rho).toBeCloseTo(1, 6);
    expect(correlate(logReturns(a), logReturns(c), 3).rho).toBeCloseTo(-1, 6);
  });

  it('when there are fewer returns than the minimum (gaps included), then rho is 1, marked assumed', () => {
    const r = correlate(logReturns([100, null, 101, 102]), logReturns([1, 2, 3, 4]), 3);
    expect(r).toEqual({ rho: 1, n: 1, assumed: true });
  });

  it('samples whole five-minute instants ending at or before now', () => {
    const t = correlationInstants(Date.UTC(2026, 0, 1, 0, 7), 2);
    expect(t).toEqual([Date.UTC(2026, 0, 1, 0, 5) - 2 * CORRELATION_BAR_MS, Date.UTC(2026, 0, 1, 0, 5) - CORRELATION_BAR_MS, Date.UTC(2026, 0, 1, 0, 5)]);
  });
});
