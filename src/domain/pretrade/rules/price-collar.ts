import { BOUNDARY_EPS_BPS, r2 } from '../numbers.js';
import { reason, type Rule } from '../rule.js';

/** A limit price too far from the mark is most likely an error. */
export const priceCollarRule: Rule = {
  name: 'price collar',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || !m.isLimit) return null;
    const devBps = (Math.abs(m.ref - m.mark) / m.mark) * 10_000;
    if (!(devBps > policy.priceCollarBps + BOUNDARY_EPS_BPS)) return null;
    return {
      reject: reason(
        'PRICE_COLLAR',
        `Limit price ${m.ref} is ${r2(devBps)} bps from the mark ${m.mark} (collar ${policy.priceCollarBps} bps): likely an error.`,
        policy.priceCollarBps,
        r2(devBps),
      ),
    };
  },
};
