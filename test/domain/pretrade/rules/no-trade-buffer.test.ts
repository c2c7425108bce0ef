import { describe, expect, it } from 'vitest';
import { evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import { MARK, NOW, WEEKDAY_2130, buildOrder, buildPolicy, clusterAt, contextWithClusters, marketAt } from '../factories.js';
import { codes } from '../verdicts.js';

describe('evaluatePretrade: no-trade buffer (distance <= buffer is inside)', () => {
  it.each([
    { where: 'inside', d: 10, rejected: true },
    { where: 'at the zone (mark inside it)', d: 0, rejected: true },
    { where: 'on the boundary', d: 30, rejected: true },
    { where: 'just outside', d: 30.01, rejected: false },
  ])('when the mark is $where ($d bps) of a major long cluster, then rejected=$rejected', ({ d, rejected }) => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', d)], { order: buildOrder({ quantity: 0.1 }) }));
    expect(codes(v).includes('NO_TRADE_BUFFER')).toBe(rejected);
    expect(v.decision === 'REJECT').toBe(rejected);
  });

  it.each([
    { side: 'short' as const, orderSide: 'buy' as const },
    { side: 'long' as const, orderSide: 'sell' as const },
  ])('when a $side cluster is inside the buffer of a $orderSide, then it still rejects (clusterSides any)', ({ side, orderSide }) => {
    const v = evaluatePretrade(contextWithClusters([clusterAt(side, 10)], { order: buildOrder({ side: orderSide, quantity: 0.1 }) }));
    expect(codes(v)).toContain('NO_TRADE_BUFFER');
  });

  it('when clusterSides is adverse, then only clusters whose cascade moves against the order count', () => {
    const policy = buildPolicy({ clusterSides: 'adverse' });
    const shortAbove = [clusterAt('short', 10)];
    expect(evaluatePretrade(contextWithClusters(shortAbove, { policy, order: buildOrder({ side: 'buy', quantity: 0.1 }) })).decision).toBe('APPROVE');
    expect(codes(evaluatePretrade(contextWithClusters(shortAbove, { policy, order: buildOrder({ side: 'sell', quantity: 0.1 }) })))).toContain(
      'NO_TRADE_BUFFER',
    );
  });

  it('when the cluster is not major, then no buffer applies but it is still reported as nearest', () => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 5, { major: false })], { order: buildOrder({ quantity: 0.1 }) }));
    expect(v.decision).toBe('APPROVE');
    expect(v.nearestCluster).toMatchObject({ major: false });
    expect(v.nearestCluster?.distanceBps).toBeCloseTo(5, 6);
  });

  it.each([
    { hour: '11:30', now: NOW, rejected: false },
    { hour: '21:30', now: WEEKDAY_2130, rejected: true },
  ])('when a cluster is 40 bps away at $hour UTC, then rejected=$rejected (buffer widens as liquidity thins)', ({ now, rejected }) => {
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 40)], { now, order: buildOrder({ quantity: 0.1 }) }));
    expect(v.decision === 'REJECT').toBe(rejected);
    if (rejected) {
      expect(codes(v)).toEqual(['NO_TRADE_BUFFER', 'TIME_OF_DAY']);
      expect(v.reasons[0]?.limit).toBeCloseTo(30 / 0.61, 2);
    }
  });

  it.each([
    { confidence: 1, buffer: 30, rejected: false },
    { confidence: 0.8, buffer: 30, rejected: false },
    { confidence: 0.4, buffer: 40, rejected: true },
    { confidence: null, buffer: 60, rejected: true },
  ])('when a cluster is 35 bps away and the map confidence is $confidence, then the buffer is $buffer bps and rejected=$rejected', ({ confidence, buffer, rejected }) => {
    const conf = confidence === null ? null : { value: confidence, unlocatedShare: 0, venueCoverage: confidence, accuracy: 1 };
    const v = evaluatePretrade(contextWithClusters([clusterAt('long', 35)], { market: marketAt(NOW, { clusters: [clusterAt('long', 35)] }, { confidence: conf }), order: buildOrder({ quantity: 0.1 }) }));
    expect(v.decision === 'REJECT').toBe(rejected);
    expect(v.confidence).toEqual(conf);
    if (rejected) {
      expect(codes(v)).toEqual(['NO_TRADE_BUFFER', 'LOW_CONFIDENCE']);
      expect(v.reasons[0]?.limit).toBeCloseTo(buffer, 2);
      expect(v.reasons[1]?.observed).toBe(confidence);
    }
  });

  it('when a limit order is placed near a cluster while the mark is far, then the limit price is what counts', () => {
    const c = clusterAt('long', 300);
    const near = evaluatePretrade(contextWithClusters([c], { order: buildOrder({ orderType: 'limit', limitPrice: c.priceHigh + 100, quantity: 0.1 }) }));
    expect(codes(near)).toContain('NO_TRADE_BUFFER');
    const far = evaluatePretrade(contextWithClusters([c], { order: buildOrder({ orderType: 'limit', limitPrice: MARK, quantity: 0.1 }) }));
    expect(far.decision).toBe('APPROVE');
  });
});
