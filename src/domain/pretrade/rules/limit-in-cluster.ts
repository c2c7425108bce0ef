import { r2 } from '../numbers.js';
import { reason, type Rule } from '../rule.js';

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
    const ref = m.ref;
    if (m.holding !== null) {
      const h = m.holding;
      const zone = `${h.side} cluster ${h.priceLow}-${h.priceHigh} (${r2(h.notionalUsd)} USD)`;
      return { reject: reason('LIMIT_PRICE_IN_CLUSTER', `Limit price ${ref} lies inside the major ${zone}.`, `${h.priceLow}-${h.priceHigh}`, ref) };
    }
    if (m.minorHolding === null) return null;
    const z = m.minorHolding;
    const zone = `${z.side} cluster ${z.priceLow}-${z.priceHigh} (${r2(z.notionalUsd)} USD, not major)`;
    if (policy.limitInClusterAction === 'reject') {
      return { reject: reason('LIMIT_PRICE_IN_CLUSTER', `Limit price ${ref} lies inside the ${zone}.`, `${z.priceLow}-${z.priceHigh}`, ref) };
    }
    // factor x requested: non-decreasing in the request, so asking for more never yields less.
    const factor = policy.limitInClusterSizeFactor;
    return {
      cap: {
        code: 'LIMIT_PRICE_IN_CLUSTER',
        q: factor >= 1 ? Infinity : factor * f.req.q,
        note: `limit price ${ref} lies inside the ${zone}; size limited to ${factor} of the requested size`,
        limit: null,
        observed: null,
        warnAlways: true,
      },
    };
  },
};
