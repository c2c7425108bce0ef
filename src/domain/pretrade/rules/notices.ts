import { r2 } from '../numbers.js';
import { px, reason, type Rule } from '../rule.js';

/**
 * Warnings that change no size: facts the decision could not check or had to assume. An
 * approval that rests on something unverifiable says so.
 */

export const bookDivergenceRule: Rule = {
  name: 'book far from the mark',
  appliesTo: 'every order',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || m.book !== null || m.bookDevBps === null || !(m.bookDevBps > policy.maxBookMarkDeviationBps)) return null;
    const msg = `The order book's mid ${px(f, m.bookMid ?? 0)} is ${r2(m.bookDevBps)} bps from the heatmap mark ${px(f, m.mark)}: one of them is wrong, the book is not used.`;
    return { warn: reason('BOOK_MARK_DIVERGENCE', msg, policy.maxBookMarkDeviationBps, r2(m.bookDevBps)) };
  },
};

export const unknownRegimeRule: Rule = {
  name: 'unknown volatility or funding',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const out = [];
    if (f.factors.volatility === null) {
      const msg = `Realized volatility is unknown (old map or too few bars): the conservative factor ${policy.volatilityUnknownFactor} was applied.`;
      out.push({ warn: reason('VOLATILITY_UNKNOWN', msg, policy.volatilityUnknownFactor, null) });
    }
    if (f.factors.fundingPercentile === null) {
      out.push({ warn: reason('FUNDING_UNKNOWN', 'The funding regime is unknown (old map or short history): no extreme-funding tightening was possible.', null, null) });
    }
    return out;
  },
};

export const reduceOnlyUnverifiedRule: Rule = {
  name: 'reduce-only rests on the position',
  appliesTo: 'reduce-only',
  needs: 'nothing',
  check() {
    const msg = 'Reduce-only: the cluster, size, crowding and leverage rules were skipped because this order reduces a position; the exposure check caps it at the account\'s known, unreserved position, and the venue must still enforce reduceOnly.';
    return { warn: reason('REDUCE_ONLY_UNVERIFIED', msg, null, null) };
  },
};
