import { describe, expect, it } from 'vitest';
import { evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import { WEEKDAY_2130, buildContext, buildMarket, buildOrder, buildPolicy, marketAt } from '../factories.js';
import { codes } from '../verdicts.js';

describe('evaluatePretrade: hard limits', () => {
  it.each([
    { q: 10, decision: 'APPROVE' },
    { q: 10.001, decision: 'REJECT' },
  ])('when $q BTC (max notional 1M at mark 100k), then $decision', ({ q, decision }) => {
    expect(evaluatePretrade(buildContext({ order: buildOrder({ quantity: q }) })).decision).toBe(decision);
  });

  it('when the policy resizes above max notional, then the order is cut to the max', () => {
    const v = evaluatePretrade(buildContext({ policy: buildPolicy({ maxNotionalAction: 'resize' }), order: buildOrder({ quantity: 15 }) }));
    expect(v).toMatchObject({ decision: 'RESIZE', approvedQuantity: 10 });
    expect(codes(v)).toEqual(['MAX_NOTIONAL']);
  });

  it('when every cap is below the minimum size, then the order is rejected BELOW_MIN_SIZE at any size', () => {
    const policy = buildPolicy({ noBookMaxNotionalUsd: 4 });
    for (const q of [0.01, 1, 5]) {
      const v = evaluatePretrade(buildContext({ policy, market: buildMarket({ orderBook: null }), order: buildOrder({ quantity: q }) }));
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual(['NO_ORDER_BOOK', 'BELOW_MIN_SIZE']);
    }
  });

  it('when the notional is below the minimum notional, then BELOW_MIN_SIZE names the notional limit', () => {
    const v = evaluatePretrade(buildContext({ policy: buildPolicy({ minNotionalUsd: 500 }), order: buildOrder({ quantity: 0.004 }) }));
    // One unit for BELOW_MIN_SIZE: quantities. 500 USD at 100,000 is 0.005 BTC.
    expect(v.reasons[0]).toMatchObject({ code: 'BELOW_MIN_SIZE', limit: 0.005, observed: 0.004 });
    expect(v.reasons[0]?.message).toMatch(/minimum notional 500 USD/);
  });

  it('when a resize is rounded, then it is rounded down to the quantity step', () => {
    const market = marketAt(WEEKDAY_2130, {}, { orderBook: null });
    const v = evaluatePretrade(buildContext({ market, order: buildOrder({ quantity: 1 }), now: WEEKDAY_2130 }));
    // 25,000 x 0.61 / 100,000 = 0.1525 -> 0.152.
    expect(v.approvedQuantity).toBe(0.152);
  });
});
