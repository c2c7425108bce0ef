import type { Facts } from '../facts.js';
import { r2 } from '../numbers.js';
import type { PretradePolicy } from '../policy.js';
import { px, reason, type Cap, type Rule } from '../rule.js';
import { utcHourAndWeekday } from '../time-of-day.js';
import type { Reason } from '../types.js';

/**
 * The nested size caps: max notional x time of day, x volatility, x extreme funding, x
 * heatmap confidence, x crowding, x cluster proximity, so each reason names the factor that bit. Each reason's
 * `limit` is its factor; `observed` what drove it.
 */

/** Notional allowed after the first `depth` factors of the chain. */
function chain(f: Facts, policy: PretradePolicy, depth: number): number {
  const m = f.m;
  const factors = [f.factors.tod, f.factors.vol, f.factors.funding, f.factors.conf, m?.crowdF ?? 1, m?.proxF ?? 1];
  let n = policy.maxNotionalUsd;
  for (let i = 0; i < depth; i++) n *= factors[i] ?? 1;
  return n;
}

function sizeCap(f: Facts, policy: PretradePolicy, depth: number, c: Omit<Cap, 'q'>): { cap: Cap } | null {
  if (f.valuePx === null) return null;
  return { cap: { ...c, q: chain(f, policy, depth) / f.valuePx } };
}

/** The reasons for the liquidity factors below 1 (shared by the caps and the buffer). */
export function factorReasons(f: Facts, effect: string): Reason[] {
  const out: Reason[] = [];
  const { tod, vol, volatility, funding, fundingPercentile, conf, confidence } = f.factors;
  if (tod < 1) {
    const { hour } = utcHourAndWeekday(f.now);
    out.push(reason('TIME_OF_DAY', `Low-liquidity hour (${hour}:00 UTC, multiplier ${r2(tod)}) ${effect}.`, r2(tod), hour));
  }
  if (vol < 1) {
    const why = volatility === null ? 'unknown realized volatility (conservative factor)' : `realized volatility ${r2(volatility)} bps/h`;
    out.push(reason('VOLATILITY', `${why[0]?.toUpperCase()}${why.slice(1)}, factor ${r2(vol)}, ${effect}.`, r2(vol), volatility === null ? null : r2(volatility)));
  }
  if (funding < 1) {
    out.push(reason('FUNDING_EXTREME', `Extreme funding (percentile ${r2(fundingPercentile ?? 0)} of its history), factor ${r2(funding)}, ${effect}.`, r2(funding), fundingPercentile));
  }
  if (conf < 1) out.push(reason('LOW_CONFIDENCE', `${confidenceWhy(confidence)}, factor ${r2(conf)}, ${effect}.`, r2(conf), confidence === null ? null : r2(confidence)));
  return out;
}

export const timeOfDayRule: Rule = {
  name: 'time of day',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    if (!(f.factors.tod < 1)) return null;
    const { hour } = utcHourAndWeekday(f.now);
    const n = chain(f, policy, 1);
    return sizeCap(f, policy, 1, { code: 'TIME_OF_DAY', note: `time-of-day multiplier ${r2(f.factors.tod)} caps size at ${r2(n)} USD`, limit: r2(f.factors.tod), observed: hour });
  },
};

export const volatilityRule: Rule = {
  name: 'volatility',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const { vol, volatility } = f.factors;
    if (!(vol < 1)) return null;
    const n = chain(f, policy, 2);
    const why = volatility === null ? 'realized volatility unknown' : `realized volatility ${r2(volatility)} bps/h (reference ${policy.volatilityReferenceBpsPerHour})`;
    return sizeCap(f, policy, 2, { code: 'VOLATILITY', note: `${why}: factor ${r2(vol)} caps size at ${r2(n)} USD`, limit: r2(vol), observed: volatility === null ? null : r2(volatility) });
  },
};

export const fundingRule: Rule = {
  name: 'extreme funding',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, order, policy) {
    const { funding, fundingPercentile } = f.factors;
    if (!(funding < 1)) return null;
    const n = chain(f, policy, 3);
    const cascade = order.side === 'buy' ? 'longs pay: a long cascade would run down' : 'shorts pay: a short cascade would run up';
    return sizeCap(f, policy, 3, {
      code: 'FUNDING_EXTREME',
      note: `funding at percentile ${r2(fundingPercentile ?? 0)} of its history (${cascade}); factor ${r2(funding)} caps size at ${r2(n)} USD`,
      limit: r2(funding),
      observed: fundingPercentile,
      warnAlways: true,
    });
  },
};

const confidenceWhy = (c: number | null): string => (c === null ? 'Heatmap confidence unknown (treated as 0)' : `Heatmap confidence ${r2(c)}`);

export const confidenceRule: Rule = {
  name: 'heatmap confidence',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const { conf, confidence } = f.factors;
    if (!(conf < 1)) return null;
    const n = chain(f, policy, 4);
    return sizeCap(f, policy, 4, {
      code: 'LOW_CONFIDENCE',
      note: `${confidenceWhy(confidence).toLowerCase().replace('heatmap', 'the heatmap')} (full at ${policy.confidenceFullAt}): factor ${r2(conf)} caps size at ${r2(n)} USD`,
      limit: r2(conf),
      observed: confidence === null ? null : r2(confidence),
      warnAlways: true,
    });
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
    const n = chain(f, policy, 5);
    return sizeCap(f, policy, 5, {
      code: 'CROWDED_SIDE',
      note: `${cr.side}s are crowded (strength ${r2(cr.strength)}); adding to them caps size at ${r2(n)} USD`,
      limit: r2(m.crowdF),
      observed: r2(cr.strength),
      warnAlways: true,
    });
  },
};

export const clusterProximityRule: Rule = {
  name: 'cluster proximity',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || m.major === null || !(m.proxF < 1) || m.inBuffer) return null;
    const n = chain(f, policy, 6);
    return sizeCap(f, policy, 6, {
      code: 'CLUSTER_PROXIMITY',
      note: `major ${m.major.side} cluster at ${px(f, m.major.peakPrice)} is ${r2(m.majorD)} bps away; size factor ${r2(m.proxF)} caps size at ${r2(n)} USD`,
      limit: r2(m.proxF),
      observed: r2(m.majorD),
      warnAlways: true,
    });
  },
};
