import { r2 } from '../numbers.js';
import { reason, type Rule } from '../rule.js';
import { maxQuantityWithinSlippage } from '../slippage.js';

/**
 * Market and marketable orders: walk the book (depth scaled by time of day and thinned
 * near a major cluster); no usable book: a conservative notional cap. A reduce-only order
 * is never cut: it passes with a warning when the walk breaks the budget.
 */
export const slippageRule: Rule = {
  name: 'slippage',
  appliesTo: 'every order',
  needs: 'market',
  check(f, order, policy) {
    const m = f.m;
    if (m === null || !m.walk || f.valuePx === null) return null;
    if (m.book === null) {
      const n = policy.noBookMaxNotionalUsd * f.factors.tod * f.factors.vol * f.factors.funding * f.factors.conf * m.crowdF;
      const note = `no usable order book (${m.noBookWhy}); fallback cap ${r2(n)} USD`;
      if (order.reduceOnly) {
        return { warn: reason('NO_ORDER_BOOK', `Reduce-only approved without a slippage check: ${note} (not applied to reduce-only).`, r2(n), r2(f.req.n)) };
      }
      return { cap: { code: 'NO_ORDER_BOOK', q: n / f.valuePx, note, limit: r2(n), observed: r2(f.req.n), warnAlways: true } };
    }
    const est = m.slip;
    if (est === null) return null;
    const depthNote = est.exhausted ? ` and exceeds the usable depth (${r2(est.filledQuantity)} at depth scale ${r2(m.depthScale)})` : '';
    const note = `expected slippage ${r2(est.slippageBps)} bps${depthNote} vs budget ${r2(m.slipBudget)} bps`;
    if (order.reduceOnly) {
      if (est.slippageBps <= m.slipBudget && !est.exhausted) return null;
      return { warn: reason('SLIPPAGE_LIMIT', `Reduce-only approved although its ${note}.`, r2(m.slipBudget), r2(est.slippageBps)) };
    }
    const q = maxQuantityWithinSlippage(m.book, order.side, m.slipBudget, m.depthScale);
    return { cap: { code: 'SLIPPAGE_LIMIT', q, note, limit: r2(m.slipBudget), observed: r2(est.slippageBps) } };
  },
};
