import { r2 } from '../numbers.js';
import { liquidatableAtLeverage } from '../../margin.js';
import type { Facts } from '../facts.js';
import { reason, type Rule, type RuleOutcome } from '../rule.js';

/**
 * Leverage the venue would refuse or that is liquidatable at birth: at or above
 * 1 / maintenance margin rate (at the order's size), or above the symbol's maximum or the
 * tier table's maximum for the order's size. Without leverage the policy
 * assumes its default (and says so) or rejects.
 */
export const leverageRule: Rule = {
  name: 'leverage',
  appliesTo: 'risk-adding',
  needs: 'nothing',
  check(f) {
    if (f.leverage === null) {
      return { reject: reason('LEVERAGE_REQUIRED', 'This symbol requires `leverage` on risk-adding orders (policy leverageWhenMissing: require).', null, null) };
    }
    const L = f.leverage;
    const out: RuleOutcome[] = [];
    if (f.leverageAssumed) {
      out.push({ warn: reason('LEVERAGE_ASSUMED', `No leverage given: ${L}x assumed (policy defaultLeverage).`, L, null) });
    }
    const atBirth = liquidatableAtLeverage(f.maintenanceRate);
    if (L >= atBirth) {
      const msg = `At ${L}x the position is liquidatable when it opens (1 / maintenance margin ${f.maintenanceRate} = ${r2(atBirth)}x).`;
      out.push({ reject: reason('LIQUIDATABLE_AT_ENTRY', msg, r2(atBirth), L) });
    }
    const max = f.spec.maxLeverage;
    if (max !== null && L > max) {
      out.push({ reject: reason('LEVERAGE_ABOVE_MAX', `Leverage ${L}x is above the maximum ${max}x for this symbol.`, max, L) });
    } else if (L > f.tierMaxLeverage) {
      const msg = `Leverage ${L}x is above the maximum ${f.tierMaxLeverage}x for a position of ${Math.round(f.req.n)} USD (maintenance-margin tier table).`;
      out.push({ reject: reason('LEVERAGE_ABOVE_MAX', msg, f.tierMaxLeverage, L) });
    }
    return out;
  },
};

/**
 * The highest leverage no leverage rule rejects (2 decimals, rounded down): below
 * 1 / maintenance margin, at most the maximum, liquidation clear of the major zones.
 * Null when the market data is unusable or nothing bounds it.
 */
export function maxSafeLeverage(f: Facts): number | null {
  if (f.m === null) return null;
  const bound = Math.min(f.m.zoneLeverage, f.spec.maxLeverage ?? Infinity, f.tierMaxLeverage);
  const atBirth = liquidatableAtLeverage(f.maintenanceRate);
  if (bound < atBirth) return Number.isFinite(bound) ? floor2(bound) : null;
  if (!Number.isFinite(atBirth)) return null;
  const below = floor2(atBirth);
  return below < atBirth ? below : r2(below - 0.01);
}

/** Rounds down to 2 decimals, never above `x` (x * 100 may round up to a whole number). */
export function floor2(x: number): number {
  const v = Math.floor(x * 100) / 100;
  return v > x ? Math.round(v * 100 - 1) / 100 : v;
}
