import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BINANCE_MAINTENANCE_MARGIN } from '../../../../src/domain/margin.js';
import { evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import { buildOrder, contextWithClusters } from '../factories.js';
import { buildClusterAround, codes } from '../verdicts.js';

describe('evaluatePretrade: own liquidation', () => {
  it.each([
    { label: '20x long, long cluster at its liquidation', side: 'buy' as const, lev: 20, cluster: buildClusterAround('long', 95_400), rejected: true },
    { label: '10x long, same cluster (liq 90,400)', side: 'buy' as const, lev: 10, cluster: buildClusterAround('long', 95_400), rejected: false },
    { label: '20x short, short cluster at its liquidation', side: 'sell' as const, lev: 20, cluster: buildClusterAround('short', 104_600), rejected: true },
    { label: '20x long, short cluster at the mirror price', side: 'buy' as const, lev: 20, cluster: buildClusterAround('short', 104_600), rejected: false },
    { label: 'no leverage given', side: 'buy' as const, lev: undefined, cluster: buildClusterAround('long', 95_400), rejected: false },
  ])('when $label, then rejected=$rejected', ({ side, lev, cluster, rejected }) => {
    const v = evaluatePretrade(contextWithClusters([cluster], { order: buildOrder({ side, leverage: lev, quantity: 0.1 }) }));
    expect(codes(v).includes('OWN_LIQUIDATION_IN_CLUSTER')).toBe(rejected);
    if (rejected) expect(v.reasons[0]?.message).toMatch(/Leverage of at most/);
  });
});

describe('evaluatePretrade: own liquidation by position size (maintenance-margin tiers)', () => {
  const btc = BINANCE_MAINTENANCE_MARGIN.BTCUSDT;
  // 20x long from 100,000: at 10k USD (0.4%) it liquidates at 95,400; at 2M USD (1% less 1,300 USD) at 95,935.
  const zone = buildClusterAround('long', 96_100); // far edge 96,000, less the 50 bps clearance: 95,500

  it('when a small 20x long clears a long zone, then the same order at 2M USD liquidates inside it and is rejected', () => {
    const small = evaluatePretrade(contextWithClusters([zone], { maintenanceMargin: btc, order: buildOrder({ side: 'buy', leverage: 20, quantity: 0.1 }) }));
    const large = evaluatePretrade(contextWithClusters([zone], { maintenanceMargin: btc, order: buildOrder({ side: 'buy', leverage: 20, quantity: 20 }) }));
    expect(codes(small)).not.toContain('OWN_LIQUIDATION_IN_CLUSTER');
    expect(codes(large)).toContain('OWN_LIQUIDATION_IN_CLUSTER');
    expect(large.maxSafeLeverage).not.toBeNull();
    expect(large.maxSafeLeverage ?? Infinity).toBeLessThan(small.maxSafeLeverage ?? Infinity);
  });

  it('when the order is above the leverage the tier table allows for its size, then it is rejected as LEVERAGE_ABOVE_MAX naming the size', () => {
    const v = evaluatePretrade(contextWithClusters([], { maintenanceMargin: btc, order: buildOrder({ side: 'buy', leverage: 75, quantity: 20 }) }));
    const r = v.reasons.find((x) => x.code === 'LEVERAGE_ABOVE_MAX');
    expect(r?.limit).toBe(50);
    expect(r?.message).toMatch(/for a position of \d+ USD/);
    const small = evaluatePretrade(contextWithClusters([], { maintenanceMargin: btc, order: buildOrder({ side: 'buy', leverage: 75, quantity: 0.1 }) }));
    expect(codes(small)).not.toContain('LEVERAGE_ABOVE_MAX');
  });

  it('when any order size and leverage are checked, then a larger order is never approved at a leverage a smaller one is refused for its own liquidation', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 40, noNaN: true }), fc.double({ min: 0.01, max: 40, noNaN: true }), fc.integer({ min: 2, max: 40 }), (a, b, lev) => {
        const [q1, q2] = a <= b ? [a, b] : [b, a];
        const at = (q: number) => codes(evaluatePretrade(contextWithClusters([zone], { maintenanceMargin: btc, order: buildOrder({ side: 'buy', leverage: lev, quantity: q }) })));
        return !at(q1).includes('OWN_LIQUIDATION_IN_CLUSTER') || at(q2).includes('OWN_LIQUIDATION_IN_CLUSTER');
      }),
      { numRuns: 200 },
    );
  });
});
