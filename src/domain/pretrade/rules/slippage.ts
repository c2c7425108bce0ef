import { r2 } from '../numbers.js';
import type { Rule } from '../rule.js';
import { estimateSlippageBps, maxQuantityWithinSlippage } from '../slippage.js';

/**
 * Market and marketable orders: walk the book (depth scaled by time of day and thinned
 * near a major cluster); no usable book: a conservative notional cap.
 */
export const slippageRule: Rule = {
  name: 'slippage',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, order, policy) {
    const m = f.m;
    if (m === null || !m.walk) return null;
    if (m.book === null) {
      const n = policy.noBookMaxNotionalUsd * f.tod * m.crowdF;
      return { cap: { code: 'NO_ORDER_BOOK', q: n / m.capPx, note: `no usable order book (${m.noBookWhy}); fallback cap ${r2(n)} USD`, limit: null, observed: null, warnAlways: true } };
    }
    const est = m.slip ?? estimateSlippageBps(m.book, order.side, f.req.q, m.depthScale);
    const q = maxQuantityWithinSlippage(m.book, order.side, m.slipBudget, m.depthScale);
    const depthNote = est.exhausted ? ` and exceeds the usable depth (${r2(est.filledQuantity)} at depth scale ${r2(m.depthScale)})` : '';
    return {
      cap: {
        code: 'SLIPPAGE_LIMIT',
        q,
        note: `expected slippage ${r2(est.slippageBps)} bps${depthNote} vs budget ${r2(m.slipBudget)} bps`,
        limit: r2(m.slipBudget),
        observed: r2(est.slippageBps),
      },
    };
  },
};
