import type { Facts } from './facts.js';
import { ceilToStep, clamp01, floorToStep, r2 } from './numbers.js';
import type { Cap, RuleOutcome } from './rule.js';
import { reason } from './rule.js';
import { estimateSlippageBps } from './slippage.js';
import type { MarketView, NearestCluster, PretradeOrder, PretradeVerdict, Reason } from './types.js';

/**
 * The one composition step: any rejection rejects; otherwise approved = min(requested,
 * every cap rounded down to the step), each cap the request exceeds named as a reason;
 * then the venue's minimum size; then the risk score.
 */
export function compose(
  f: Facts,
  order: PretradeOrder,
  market: MarketView | null,
  outcomes: readonly RuleOutcome[],
  maxSafeLeverage: number | null,
): PretradeVerdict {
  const reasons: Reason[] = [];
  const warnings: Reason[] = [];
  const caps: Cap[] = [];
  let hardReject = false;
  for (const o of outcomes) {
    if (o.reject) {
      reasons.push(o.reject);
      hardReject = true;
    }
    if (o.cap) caps.push(o.cap);
    if (o.warn) warnings.push(o.warn);
  }
  const req = f.req;
  const m = f.m;
  const step = f.spec.quantityStep;

  let capQ = Infinity;
  for (const c of caps) {
    const floored = floorToStep(c.q, step);
    if (floored < req.q) {
      if (floored < capQ) capQ = floored;
      reasons.push(reason(c.code, `Allows at most ${floored} of the ${req.q} requested: ${c.note}.`, c.limit, c.observed));
    } else if (c.warnAlways) {
      warnings.push(reason(c.code, `Within limits, but note: ${c.note}.`, c.limit, c.observed));
    }
  }
  // Approvals are whole steps on every path: a request off the step is rounded down (one within
  // floorToStep's float tolerance of a multiple is on it, and never rounded up).
  const reqOnStep = Math.min(floorToStep(req.q, step), req.q);
  if (reqOnStep < req.q && reqOnStep < capQ) {
    reasons.push(reason('QUANTITY_STEP', `The quantity ${req.q} is not a multiple of the step ${step}: rounded down to ${reqOnStep}.`, step, req.q));
  }
  const valuePx = f.valuePx;
  if (req.q === 0 && req.n > 0 && valuePx !== null) {
    reasons.push(reason('QUANTITY_STEP', `The notional ${r2(req.n)} USD at ${r2(valuePx)} is less than one step ${step}.`, step, 0));
  }

  let approvedQ = hardReject ? 0 : Math.min(reqOnStep, capQ);
  if (!hardReject && !order.reduceOnly && valuePx !== null) {
    // The smallest quantity the venue takes: the minimum quantity and the minimum notional, in whole steps.
    const minQ = Math.max(f.spec.minQuantity, ceilToStep(f.spec.minNotionalUsd / valuePx, step));
    if (approvedQ < minQ) {
      const msg = `Approvable quantity ${approvedQ} is below the minimum ${minQ} (minimum quantity ${f.spec.minQuantity}, minimum notional ${f.spec.minNotionalUsd} USD at ${r2(valuePx)}).`;
      reasons.push(reason('BELOW_MIN_SIZE', msg, minQ, approvedQ));
      approvedQ = 0;
    }
  }

  // Nothing approvable is a rejection; only a reduce-only order with no price at all passes with quantity 0 (see freshness).
  const rejected = hardReject || (approvedQ === 0 && (req.q > 0 || valuePx !== null || !order.reduceOnly));
  const decision = rejected ? 'REJECT' : approvedQ < req.q ? 'RESIZE' : 'APPROVE';
  // One valuation: approved quantity x the valuation price (a reduce-only order with no price at all keeps its notional).
  const approvedN = rejected ? 0 : valuePx === null ? req.n : approvedQ * valuePx;

  let expectedSlip: number | null = null;
  let slipUse = 0;
  if (m !== null && m.walk && m.book !== null && m.slip !== null) {
    const execQ = rejected ? req.q : approvedQ;
    expectedSlip = execQ === req.q ? m.slip.slippageBps : estimateSlippageBps(m.book, order.side, execQ, m.depthScale).slippageBps;
    slipUse = clamp01(m.slip.slippageBps / m.slipBudget);
  } else if (m !== null && m.walk && !order.reduceOnly) {
    slipUse = 0.5;
  }
  const score = m === null ? 100 : riskScore(f.risk.prox, f.risk.size, slipUse, f.risk.crowd, f.risk.model);
  return {
    decision,
    requestedQuantity: req.q,
    approvedQuantity: rejected ? 0 : approvedQ,
    requestedNotional: req.n,
    approvedNotional: approvedN,
    reasons,
    warnings,
    riskScore: score,
    nearestCluster: nearestOf(f),
    expectedSlippageBps: expectedSlip === null ? null : r2(expectedSlip),
    maxSafeLeverage,
    timeOfDayMultiplier: f.factors.tod,
    heatmapAsOf: market ? market.asOf : null,
    heatmapAgeMs: f.ageMs,
    source: market ? market.source : null,
    confidence: market?.confidence ?? null,
  };
}

function nearestOf(f: Facts): NearestCluster | null {
  const c = f.m?.nearest;
  if (!c || f.m === null) return null;
  return { side: c.side, peakPrice: c.peakPrice, distanceBps: r2(f.m.nearestD), notionalUsd: c.notionalUsd, major: c.major };
}

/** Heuristic 0..100 (weights in docs/pretrade-rules.md); informs, never decides. */
function riskScore(prox: number, size: number, slip: number, crowd: number, model: number): number {
  const score = Math.round(100 * clamp01(0.35 * prox + 0.2 * size + 0.15 * slip + 0.15 * crowd + 0.15 * model));
  return Number.isFinite(score) ? score : 100; // a NaN input is unknown risk: the worst
}
