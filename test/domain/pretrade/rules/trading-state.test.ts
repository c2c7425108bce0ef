import { describe, expect, it } from 'vitest';
import { effectiveTradingState, evaluatePretrade } from '../../../../src/domain/pretrade/evaluate.js';
import type { TradingState } from '../../../../src/domain/pretrade/types.js';
import { buildContext, buildOrder } from '../factories.js';
import { codes } from '../verdicts.js';

describe('evaluatePretrade: trading state', () => {
  const states: TradingState[] = ['ACTIVE', 'REDUCING', 'HALTED'];
  const rank = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
  const cases = states.flatMap((global) => states.flatMap((symbol) => [false, true].map((reduceOnly) => ({ global, symbol, reduceOnly }))));

  it.each(cases)('when global=$global, symbol=$symbol, reduceOnly=$reduceOnly, then the stricter state decides', ({ global, symbol, reduceOnly }) => {
    const v = evaluatePretrade(buildContext({ tradingState: { global, symbol }, order: buildOrder({ reduceOnly }) }));
    const effective = rank[global] >= rank[symbol] ? global : symbol;
    if (effective === 'ACTIVE' || (reduceOnly && effective === 'REDUCING')) {
      expect(v.decision).toBe('APPROVE');
    } else {
      // HALTED stops everything, reduce-only included; REDUCING lets only reduce-only through.
      expect(v.decision).toBe('REJECT');
      expect(codes(v)).toEqual([effective === 'HALTED' ? 'TRADING_HALTED' : 'TRADING_REDUCING']);
      expect(v.reasons[0]?.limit).toBe(effective);
    }
  });
});

describe('evaluatePretrade: unrecognised trading state (fail closed)', () => {
  it.each([
    { global: 'halted', symbol: 'ACTIVE' },
    { global: 'ACTIVE', symbol: 'PAUSED' },
    { global: 'ACTIVE', symbol: '' },
  ])('when global=$global and symbol=$symbol, then a new order is rejected TRADING_HALTED showing the raw value', ({ global, symbol }) => {
    const tradingState = { global: global as TradingState, symbol: symbol as TradingState };
    const v = evaluatePretrade(buildContext({ tradingState }));
    expect(v.decision).toBe('REJECT');
    expect(codes(v)).toEqual(['TRADING_HALTED']);
    expect(v.reasons[0]?.observed).toBe(`global=${global} symbol=${symbol}`);
  });

  it('when the state is unrecognised, then effectiveTradingState says HALTED and even reduce-only is rejected', () => {
    expect(effectiveTradingState('ACTIVE', 'halted' as TradingState)).toBe('HALTED');
    const v = evaluatePretrade(buildContext({ tradingState: { global: 'halted' as TradingState, symbol: 'ACTIVE' }, order: buildOrder({ reduceOnly: true }) }));
    expect(codes(v)).toEqual(['TRADING_HALTED']);
  });
});
