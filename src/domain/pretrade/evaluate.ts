import { compose } from './compose.js';
import { computeFacts } from './facts.js';
import { finitePositive } from './numbers.js';
import type { MaintenanceMargin } from '../margin.js';
import type { PretradePolicy } from './policy.js';
import { RULES } from './registry.js';
import { reason, type RuleOutcome } from './rule.js';
import { maxSafeLeverage } from './rules/leverage.js';
import type { MarketView, PretradeOrder, PretradeVerdict, TradingState } from './types.js';
import { timeOfDayMultiplier } from './time-of-day.js';

export { effectiveTradingState, distanceToZoneBps } from './facts.js';
export { floorToStep, stepDecimals } from './numbers.js';

/**
 * The pre-trade decision: pure, deterministic, no I/O, no clock (time is `ctx.now`).
 * Facts once, then every rule of the registry, then one composition step. The rules and
 * their rationale: docs/pretrade-rules.md.
 */

export interface PretradeContext {
  /** Shape already validated by the route schema (checked again here, fail closed). */
  order: PretradeOrder;
  /** false -> REJECT UNKNOWN_SYMBOL (even reduce-only: there is nothing to reduce we know of). */
  knownSymbol: boolean;
  /** null -> no heatmap yet for a known symbol. */
  market: MarketView | null;
  tradingState: { global: TradingState; symbol: TradingState };
  /** Effective policy for this symbol. */
  policy: PretradePolicy;
  /** The symbol's maintenance margin (the heatmap model uses the same one). */
  maintenanceMargin: MaintenanceMargin;
  /** Service-wide freshness limit (HEATMAP_MAX_AGE_MS); the policy may tighten it. */
  maxHeatmapAgeMs: number;
  /** Epoch ms. */
  now: number;
}

/** Why the order itself is malformed, or null. Defence in depth: the route schema should have caught it. */
function malformed(o: PretradeOrder): string | null {
  const hasQ = o.quantity !== undefined;
  const hasN = o.notional !== undefined;
  if (hasQ === hasN) return 'exactly one of quantity and notional is required';
  if (hasQ && !finitePositive(o.quantity)) return 'quantity must be a finite positive number';
  if (hasN && !finitePositive(o.notional)) return 'notional must be a finite positive number';
  if (o.side !== 'buy' && o.side !== 'sell') return 'side must be buy or sell';
  if (o.orderType === 'limit' && !finitePositive(o.limitPrice)) return 'a limit order needs a finite positive limitPrice';
  if (o.orderType !== 'limit' && o.orderType !== 'market') return 'orderType must be market or limit';
  if (o.leverage !== undefined && !(Number.isFinite(o.leverage) && o.leverage >= 1)) return 'leverage must be >= 1';
  return null;
}

function rejectedUpFront(ctx: PretradeContext, code: 'INVALID_ORDER' | 'UNKNOWN_SYMBOL', message: string, observed: string | null): PretradeVerdict {
  const o = ctx.order;
  return {
    decision: 'REJECT',
    requestedQuantity: finitePositive(o.quantity) ? o.quantity : 0,
    approvedQuantity: 0,
    requestedNotional: 0,
    approvedNotional: 0,
    reasons: [reason(code, message, null, observed)],
    warnings: [],
    riskScore: 100,
    nearestCluster: null,
    expectedSlippageBps: null,
    maxSafeLeverage: null,
    timeOfDayMultiplier: timeOfDayMultiplier(ctx.policy, ctx.now),
    heatmapAsOf: ctx.market ? ctx.market.asOf : null,
    heatmapAgeMs: ctx.market ? ctx.now - ctx.market.asOf : null,
    source: ctx.market ? ctx.market.source : null,
    confidence: ctx.market?.confidence ?? null,
  };
}

export function evaluatePretrade(ctx: PretradeContext): PretradeVerdict {
  const { order, policy } = ctx;
  const bad = malformed(order);
  if (bad) return rejectedUpFront(ctx, 'INVALID_ORDER', `Malformed order: ${bad}.`, null);
  if (!ctx.knownSymbol) return rejectedUpFront(ctx, 'UNKNOWN_SYMBOL', `Symbol ${order.symbol} is not configured on this gate.`, order.symbol);

  const facts = computeFacts(ctx);
  // 1e308 x a price overflows: a value the gate cannot represent is malformed, never approved.
  if (!Number.isFinite(facts.req.n) || !Number.isFinite(facts.req.q)) {
    return rejectedUpFront(ctx, 'INVALID_ORDER', 'Malformed order: its value is not a finite number.', null);
  }
  const outcomes: RuleOutcome[] = [];
  for (const rule of RULES) {
    if (rule.appliesTo === 'risk-adding' && order.reduceOnly) continue;
    if (rule.appliesTo === 'reduce-only' && !order.reduceOnly) continue;
    if (rule.needs === 'market' && facts.m === null) continue;
    const out = rule.check(facts, order, policy);
    if (out === null) continue;
    if (Array.isArray(out)) outcomes.push(...out);
    else outcomes.push(out);
  }
  const safe = order.reduceOnly ? null : maxSafeLeverage(facts);
  return compose(facts, order, ctx.market, outcomes, safe);
}
