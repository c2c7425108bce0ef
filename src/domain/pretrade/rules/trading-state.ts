import { reason, type Rule } from '../rule.js';

/** The kill switch: anything but ACTIVE rejects a risk-adding order. */
export const tradingStateRule: Rule = {
  name: 'trading state',
  appliesTo: 'risk-adding',
  needs: 'nothing',
  check(f, _order, _policy) {
    if (f.state === 'ACTIVE') return null;
    return { reject: tradingStateReason(f.state, f.observedState) };
  },
};

export function tradingStateReason(state: 'REDUCING' | 'HALTED', observed: string) {
  return state === 'HALTED'
    ? reason('TRADING_HALTED', 'Trading is halted: only reduce-only orders pass.', 'HALTED', observed)
    : reason('TRADING_REDUCING', 'Trading is reducing: only reduce-only orders pass.', 'REDUCING', observed);
}
