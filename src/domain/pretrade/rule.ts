import type { PretradePolicy } from './policy.js';
import type { Facts } from './facts.js';
import { roundPrice } from './spec.js';
import type { PretradeOrder, Reason, ReasonCode } from './types.js';

/** A size limit of one rule: the largest quantity it allows, independent of the requested size. */
export interface Cap {
  code: ReasonCode;
  /** Largest quantity this rule allows (base units, before rounding to the step). */
  q: number;
  /** Why, for the message ("Allows at most X of the Y requested: <note>."). */
  note: string;
  /** The reason's `limit` and `observed` (the code's documented shape, see docs/pretrade-rules.md). */
  limit: Reason['limit'];
  observed: Reason['observed'];
  /** Report as a warning even when it does not bind. */
  warnAlways?: boolean;
}

/** What one rule says about one order: a hard rejection, a size cap, a warning, or nothing. */
export interface RuleOutcome {
  reject?: Reason;
  cap?: Cap;
  warn?: Reason;
}

/**
 * One named rule of the gate. `appliesTo` says which orders it judges; `needs` whether it
 * reads the market (rules that do are not run when the data is unusable: the freshness
 * rule rejects instead). Rules are pure and independent: they read the facts, never each
 * other's outcomes.
 */
export interface Rule {
  name: string;
  appliesTo: 'risk-adding' | 'reduce-only' | 'every order';
  needs: 'market' | 'nothing';
  check(facts: Facts, order: PretradeOrder, policy: PretradePolicy): RuleOutcome | RuleOutcome[] | null;
}

export function reason(code: ReasonCode, message: string, limit: Reason['limit'], observed: Reason['observed']): Reason {
  return { code, message, limit, observed };
}

/** A price as reasons show it: rounded to the symbol's tick. */
export function px(f: Facts, price: number): number {
  return roundPrice(price, f.spec.tickSize);
}
