import { describe, expect, it } from 'vitest';
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
