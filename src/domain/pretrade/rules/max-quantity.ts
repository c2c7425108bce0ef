import type { Rule } from '../rule.js';

/** The venues' (or the policy's) largest order quantity: every order is cut to it, reduce-only included. */
export const maxQuantityRule: Rule = {
  name: 'max quantity',
  appliesTo: 'every order',
  needs: 'nothing',
  check(f) {
    const max = f.spec.maxQuantity;
    if (max === null || !(f.req.q > max)) return null;
    return { cap: { code: 'MAX_QUANTITY', q: max, note: `largest order quantity ${max}`, limit: max, observed: f.req.q } };
  },
};
