import { r2 } from '../numbers.js';
import { px, reason, type Rule } from '../rule.js';

/**
 * A limit price inside a major zone is rejected; a passive limit inside a non-major zone
 * gets `limitInClusterAction` (reject, or a cap of factor x requested).
 */
export const limitInClusterRule: Rule = {
  name: 'limit price in cluster',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || !m.isLimit) return null;
    const z = m.holding ?? m.minorHolding;
    if (z === null) return null;
    const limit = `${px(f, z.priceLow)}-${px(f, z.priceHigh)}`;
    const observed = px(f, m.ref);
    const zone = `${z.side} cluster ${limit} (${r2(z.notionalUsd)} USD${z.major ? '' : ', not major'})`;
    if (m.holding !== null || policy.limitInClusterAction === 'reject') {
      return { reject: reason('LIMIT_PRICE_IN_CLUSTER', `Limit price ${observed} lies inside the ${z.major ? 'major ' : ''}${zone}.`, limit, observed) };
    }
    // factor x requested: non-decreasing in the request, so asking for more never yields less.
    const factor = policy.limitInClusterSizeFactor;
    return {
      cap: {
        code: 'LIMIT_PRICE_IN_CLUSTER',
        q: factor >= 1 ? Infinity : factor * f.req.q,
        note: `limit price ${observed} lies inside the ${zone}; size limited to ${factor} of the requested size`,
        limit,
        observed,
        warnAlways: true,
      },
    };
  },
};
