import { r2 } from '../numbers.js';
import { reason, type Rule } from '../rule.js';

/** Above the per-order notional limit: a likely fat finger (reject), or cut to it (resize). */
export const maxNotionalRule: Rule = {
  name: 'max notional',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const valuePx = f.valuePx;
    if (valuePx === null || !(f.req.n > policy.maxNotionalUsd)) return null;
    const message = `Order notional ${r2(f.req.n)} USD exceeds the per-order maximum ${policy.maxNotionalUsd} USD.`;
    if (policy.maxNotionalAction === 'reject') return { reject: reason('MAX_NOTIONAL', message, policy.maxNotionalUsd, r2(f.req.n)) };
    return {
      cap: { code: 'MAX_NOTIONAL', q: policy.maxNotionalUsd / valuePx, note: `per-order maximum ${policy.maxNotionalUsd} USD`, limit: policy.maxNotionalUsd, observed: r2(f.req.n) },
    };
  },
};
