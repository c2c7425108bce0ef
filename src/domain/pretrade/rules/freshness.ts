import { reason, type Rule } from '../rule.js';

/** Missing, old, future-dated, empty or invalid market data: risk-adding orders are rejected (fail closed). */
export const freshnessRule: Rule = {
  name: 'freshness',
  appliesTo: 'every order',
  needs: 'nothing',
  check(f, order) {
    if (f.unusable === null) return null;
    const { what, observed } = f.unusable;
    if (order.reduceOnly) {
      const noPrice = f.req.q === 0 ? '; no price to convert the notional, so quantities are 0' : '';
      const collar = order.orderType === 'limit' ? '; the price collar could not be checked' : '';
      return { warn: reason('REDUCE_ONLY_STALE_DATA', `Reduce-only approved on stale data: ${what}${noPrice}${collar}.`, f.maxAge, observed) };
    }
    return { reject: reason('HEATMAP_STALE', `Cannot assess a risk-adding order: ${what}.`, f.maxAge, observed) };
  },
};
