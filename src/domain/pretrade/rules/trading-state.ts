import { reason, type Rule } from '../rule.js';

/** The kill switch: REDUCING lets only reduce-only orders through; HALTED stops everything. */
export const tradingStateRule: Rule = {
  name: 'trading state',
  appliesTo: 'every order',
  needs: 'nothing',
  check(f, order) {
    if (f.state === 'HALTED') {
      const what = order.reduceOnly ? 'every order is rejected, reduce-only included' : 'every order is rejected';
      return { reject: reason('TRADING_HALTED', `Trading is halted: ${what}.`, 'HALTED', f.observedState) };
    }
    if (f.state === 'REDUCING' && !order.reduceOnly) {
      return { reject: reason('TRADING_REDUCING', 'Trading is reducing: only reduce-only orders pass.', 'REDUCING', f.observedState) };
    }
    return null;
  },
};
