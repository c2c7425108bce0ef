import { r2 } from '../numbers.js';
import { reason, type Rule } from '../rule.js';

/** Above the per-order notional limit: a likely fat finger (reject), or cut to it (resize). */
export const maxNotionalRule: Rule = {
  name: 'max notional',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null) return null;
    // A marketable order valued at capPx: a sell below the mark fills near the mark.
    const valueN = m.capPx === m.ref ? f.req.n : f.req.q * m.capPx;
    if (!(valueN > policy.maxNotionalUsd)) return null;
    if (policy.maxNotionalAction === 'reject') {
      return {
        reject: reason(
          'MAX_NOTIONAL',
          `Order notional ${r2(valueN)} USD exceeds the per-order maximum ${policy.maxNotionalUsd} USD.`,
          policy.maxNotionalUsd,
          r2(valueN),
        ),
      };
    }
    return { cap: { code: 'MAX_NOTIONAL', q: policy.maxNotionalUsd / m.capPx, note: `per-order maximum ${policy.maxNotionalUsd} USD`, limit: null, observed: null } };
  },
};
