import { BOUNDARY_EPS_BPS, bpsApart, r2 } from '../numbers.js';
import { px, reason, type Rule } from '../rule.js';

/** A limit price too far from the reference prices is most likely an error: every order, reduce-only included. */
export const priceCollarRule: Rule = {
  name: 'price collar',
  appliesTo: 'every order',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || !m.isLimit) return null;
    // The stricter of the mark and the book's mid: the larger deviation.
    let devBps = 0;
    let from = m.mark;
    for (const p of m.refPrices) {
      const d = bpsApart(m.ref, p, m.mark);
      if (d > devBps) {
        devBps = d;
        from = p;
      }
    }
    if (!(devBps > policy.priceCollarBps + BOUNDARY_EPS_BPS)) return null;
    const what = from === m.mark ? 'the mark' : 'the book mid';
    return {
      reject: reason(
        'PRICE_COLLAR',
        `Limit price ${px(f, m.ref)} is ${r2(devBps)} bps from ${what} ${px(f, from)} (collar ${policy.priceCollarBps} bps): likely an error.`,
        policy.priceCollarBps,
        r2(devBps),
      ),
    };
  },
};
