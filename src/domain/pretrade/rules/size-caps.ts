import { r2 } from '../numbers.js';
import type { Rule } from '../rule.js';

/**
 * The nested size caps: max notional x time of day, then x crowding, then x cluster
 * proximity, so each reason names the factor that bit.
 */

export const timeOfDayRule: Rule = {
  name: 'time of day',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || !(f.tod < 1)) return null;
    const n = policy.maxNotionalUsd * f.tod;
    return { cap: { code: 'TIME_OF_DAY', q: n / m.capPx, note: `time-of-day multiplier ${r2(f.tod)} caps size at ${r2(n)} USD`, limit: null, observed: null } };
  },
};

export const crowdingRule: Rule = {
  name: 'crowded side',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || !(m.crowdF < 1)) return null;
    const cr = m.heatmap.crowding;
    const n = policy.maxNotionalUsd * f.tod * m.crowdF;
    return {
      cap: {
        code: 'CROWDED_SIDE',
        q: n / m.capPx,
        note: `${cr.side}s are crowded (strength ${r2(cr.strength)}); adding to them caps size at ${r2(n)} USD`,
        limit: null,
        observed: null,
        warnAlways: true,
      },
    };
  },
};

export const clusterProximityRule: Rule = {
  name: 'cluster proximity',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || m.major === null || !(m.proxF < 1) || m.inBuffer) return null;
    const n = policy.maxNotionalUsd * f.tod * m.crowdF * m.proxF;
    return {
      cap: {
        code: 'CLUSTER_PROXIMITY',
        q: n / m.capPx,
        note: `major ${m.major.side} cluster at ${m.major.peakPrice} is ${r2(m.majorD)} bps away; size factor ${r2(m.proxF)} caps size at ${r2(n)} USD`,
        limit: null,
        observed: null,
        warnAlways: true,
      },
    };
  },
};
