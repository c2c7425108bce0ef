import type { Cluster, Heatmap } from '../heatmap/types.js';
import type { OrderBook } from '../market-data.js';
import type { PretradePolicy } from './policy.js';
import { bookDefect, bookReferencePrice, estimateSlippageBps, maxQuantityWithinSlippage } from './slippage.js';
import { timeOfDayMultiplier, utcHourAndWeekday } from './time-of-day.js';
import type {
  MarketView,
  NearestCluster,
  OrderSide,
  PretradeOrder,
  PretradeVerdict,
  Reason,
  ReasonCode,
  TradingState,
} from './types.js';

/**
 * The pre-trade decision: pure, deterministic, no I/O, no clock (time is `ctx.now`).
 * The rules and every choice where issue 5 was silent are documented at the top of
 * policy.ts. Hot path: one pass over the clusters, at most two walks of the book, no
 * copies of the heatmap.
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
  /** Service-wide freshness limit (HEATMAP_MAX_AGE_MS); the policy may tighten it. */
  maxHeatmapAgeMs: number;
  /** Epoch ms. */
  now: number;
}

/** Distances within this many bps of a boundary count as on it (float tolerance). */
const BOUNDARY_EPS_BPS = 1e-9;
/**
 * Rounding down to a step tolerates float division noise (0.3 / 0.1 = 2.9999999999999996):
 * a value at most this fraction of a step, and at most STEP_REL_EPS of itself, short of a
 * multiple rounds to that multiple. Never more: the result may not exceed the cap it rounds.
 */
const STEP_EPS = 1e-9;
const STEP_REL_EPS = 1e-12;

const STATE_RANK: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/** A state value read from outside (Redis, a hand edit): anything but the three exact names is HALTED (fail closed). */
function knownState(s: unknown): TradingState {
  return s === 'ACTIVE' || s === 'REDUCING' || s === 'HALTED' ? s : 'HALTED';
}

/** The stricter of the global and symbol trading states; an unrecognised value counts as HALTED. */
export function effectiveTradingState(global: TradingState, symbol: TradingState): TradingState {
  const g = knownState(global);
  const s = knownState(symbol);
  return STATE_RANK[g] >= STATE_RANK[s] ? g : s;
}

/**
 * Rounds down to a multiple of `step`, written with the step's own decimals (0.25 -> 2,
 * 2.5 -> 1, 1e-7 -> 7) so the result is the exact decimal multiple, never above `value`
 * beyond the tolerance above. A step that is not a positive number allows nothing.
 */
export function floorToStep(value: number, step: number): number {
  if (!(value > 0) || !(step > 0)) return 0;
  const q = value / step;
  let n = Math.floor(q + Math.min(STEP_EPS, q * STEP_REL_EPS));
  let r = roundToStepDecimals(n * step, step);
  // Decimal rounding moves n x step by float noise only; if that crossed the tolerance, one step less.
  if (r > value + value * STEP_REL_EPS && n > 0) {
    n -= 1;
    r = roundToStepDecimals(n * step, step);
  }
  return r;
}

// The last step's decimals: every cap of a check rounds to the same step (one parse per policy, not per call).
let lastStep = Number.NaN;
let lastStepDecimals = 0;

/** toFixed takes at most 100 decimals; a step finer than that is used as the float it is. */
const MAX_STEP_DECIMALS = 100;

/** Decimals of the shortest decimal that reads back as `step` (String(step)): 0.25 -> 2, 1.5e-7 -> 8, 5 -> 0. */
export function stepDecimals(step: number): number {
  const s = String(step);
  const e = s.indexOf('e');
  const mantissa = e === -1 ? s : s.slice(0, e);
  const exponent = e === -1 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const fraction = dot === -1 ? 0 : mantissa.length - dot - 1;
  return Math.max(0, fraction - exponent);
}

function roundToStepDecimals(value: number, step: number): number {
  if (step !== lastStep) {
    lastStepDecimals = stepDecimals(step);
    lastStep = step;
  }
  return lastStepDecimals > MAX_STEP_DECIMALS ? value : Number(value.toFixed(lastStepDecimals));
}

/** Distance from `price` to the nearest edge of the cluster zone, in bps of `mark`; 0 inside. */
export function distanceToZoneBps(price: number, cluster: Cluster, mark: number): number {
  if (price < cluster.priceLow) return ((cluster.priceLow - price) / mark) * 10_000;
  if (price > cluster.priceHigh) return ((price - cluster.priceHigh) / mark) * 10_000;
  return 0;
}

/** Own liquidation price under isolated margin (entry at `entry`, leverage L, maintenance margin rate mmr). */
export function liquidationPrice(side: OrderSide, entry: number, leverage: number, mmr: number): number {
  return side === 'buy' ? entry * (1 - 1 / leverage + mmr) : entry * (1 + 1 / leverage - mmr);
}

const r2 = (x: number): number => Math.round(x * 100) / 100;
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const finitePositive = (x: number | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

function reason(code: ReasonCode, message: string, limit: Reason['limit'], observed: Reason['observed']): Reason {
  return { code, message, limit, observed };
}

interface Base {
  requestedQuantity: number;
  requestedNotional: number;
  tod: number;
  market: MarketView | null;
  ageMs: number | null;
}

function verdict(
  b: Base,
  decision: PretradeVerdict['decision'],
  approvedQuantity: number,
  approvedNotional: number,
  reasons: Reason[],
  warnings: Reason[],
  riskScore: number,
  nearestCluster: NearestCluster | null,
  expectedSlippageBps: number | null,
): PretradeVerdict {
  return {
    decision,
    requestedQuantity: b.requestedQuantity,
    approvedQuantity,
    requestedNotional: b.requestedNotional,
    approvedNotional,
    reasons,
    warnings,
    riskScore,
    nearestCluster,
    expectedSlippageBps: expectedSlippageBps === null ? null : r2(expectedSlippageBps),
    timeOfDayMultiplier: b.tod,
    heatmapAsOf: b.market ? b.market.asOf : null,
    heatmapAgeMs: b.ageMs,
    source: b.market ? b.market.source : null,
  };
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

/** Quantity and notional of the request at `ref` (null when there is no price to convert at). */
function requested(o: PretradeOrder, ref: number | null): { q: number; n: number } {
  if (o.quantity !== undefined) return { q: o.quantity, n: ref === null ? 0 : o.quantity * ref };
  const n = o.notional ?? 0;
  return { q: ref === null ? 0 : n / ref, n };
}

/**
 * bookDefect per book object: a snapshot's book is checked once, not on every order
 * (walking ~400 levels was the largest cost of a check). Books are values: the service
 * replaces a snapshot, it never edits a book in place.
 */
const bookDefects = new WeakMap<OrderBook, string | null>();
function cachedBookDefect(book: OrderBook): string | null {
  const known = bookDefects.get(book);
  if (known !== undefined) return known;
  const defect = bookDefect(book);
  bookDefects.set(book, defect);
  return defect;
}

/** Records a hard rejection reason (an order with one is rejected whatever its size); returns true. */
function rejectWith(reasons: Reason[], r: Reason): true {
  reasons.push(r);
  return true;
}

/** Why the order book cannot be used (-> the no-book cap), or null when it can. */
function bookProblem(book: OrderBook | null, now: number, maxAgeMs: number, mark: number, maxDevBps: number): string | null {
  if (book === null || typeof book !== 'object') return 'none';
  const age = now - book.ts;
  if (!(age <= maxAgeMs)) return Number.isFinite(age) ? `too old (${age} ms, max ${maxAgeMs} ms)` : 'too old (no valid timestamp)';
  // As for the heatmap: small clock skew passes, a book dated beyond the max age ahead is broken data.
  if (age < -maxAgeMs) return `dated in the future (${-age} ms ahead, max ${maxAgeMs} ms)`;
  const defect = cachedBookDefect(book);
  if (defect !== null) return defect;
  const mid = bookReferencePrice(book) ?? Number.NaN;
  const devBps = (Math.abs(mid - mark) / mark) * 10_000;
  if (!(devBps <= maxDevBps + BOUNDARY_EPS_BPS)) return `mid ${mid} is ${r2(devBps)} bps from the mark ${mark} (max ${maxDevBps})`;
  return null;
}

const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const validZone = (c: Cluster): boolean =>
  isFiniteNumber(c.priceLow) && isFiniteNumber(c.priceHigh) && c.priceLow > 0 && c.priceLow <= c.priceHigh;

/**
 * Why the heatmap cannot be trusted by the rules, or null. Heatmaps arrive as JSON
 * (NaN becomes null), so every field a rule reads is checked: a cluster with bad bounds
 * would be invisible to the buffer (major) or to the limit-in-cluster rule (any cluster),
 * a NaN crowding strength would read as "not crowded".
 */
function heatmapProblem(h: Heatmap): string | null {
  if (!Array.isArray(h.clusters)) return 'clusters missing';
  for (const c of h.clusters) {
    if (c === null || typeof c !== 'object') return 'cluster is not an object';
    const kind = c.major ? 'major' : 'non-major';
    if (!validZone(c)) return `${kind} cluster with invalid bounds ${String(c.priceLow)}-${String(c.priceHigh)}`;
    if (c.side !== 'long' && c.side !== 'short') return `${kind} cluster with invalid side ${String(c.side)}`;
    if (c.major && !isFiniteNumber(c.notionalUsd)) return 'major cluster with invalid notional';
  }
  const cr = h.crowding as Heatmap['crowding'] | null | undefined;
  if (cr === null || typeof cr !== 'object') return 'crowding missing';
  if (cr.side !== 'long' && cr.side !== 'short' && cr.side !== 'neutral') return `invalid crowding side ${String(cr.side)}`;
  if (!isFiniteNumber(cr.strength) || cr.strength < 0) return `invalid crowding strength ${String(cr.strength)}`;
  return null;
}

export function evaluatePretrade(ctx: PretradeContext): PretradeVerdict {
  const { order, policy, market, now } = ctx;
  const tod = timeOfDayMultiplier(policy, now);
  const bad = malformed(order);
  const mark = market && finitePositive(market.heatmap.markPrice) ? market.heatmap.markPrice : null;
  const ref = order.orderType === 'limit' ? (finitePositive(order.limitPrice) ? order.limitPrice : null) : mark;
  const req = bad ? { q: finitePositive(order.quantity) ? order.quantity : 0, n: 0 } : requested(order, ref);
  const ageMs = market ? now - market.asOf : null;
  const base: Base = { requestedQuantity: req.q, requestedNotional: req.n, tod, market, ageMs };

  if (bad) {
    return verdict(base, 'REJECT', 0, 0, [reason('INVALID_ORDER', `Malformed order: ${bad}.`, null, null)], [], 100, null, null);
  }
  if (!ctx.knownSymbol) {
    const msg = `Symbol ${order.symbol} is not configured on this gate.`;
    return verdict(base, 'REJECT', 0, 0, [reason('UNKNOWN_SYMBOL', msg, null, order.symbol)], [], 100, null, null);
  }

  // 1. Freshness, fail closed.
  const maxAge = policy.maxHeatmapAgeMs === null ? ctx.maxHeatmapAgeMs : Math.min(ctx.maxHeatmapAgeMs, policy.maxHeatmapAgeMs);
  // A heatmap dated more than maxAge in the future is broken data (clock skew beyond that is a fault): stale too.
  // Invalid heatmap content (NaN arrives from JSON as null) is missing data, never "no risk".
  const invalid = market !== null && mark !== null ? heatmapProblem(market.heatmap) : null;
  const stale =
    market === null || mark === null || invalid !== null || ageMs === null || !Number.isFinite(ageMs) || ageMs > maxAge || ageMs < -maxAge;
  const state = effectiveTradingState(ctx.tradingState.global, ctx.tradingState.symbol);
  if (stale || market === null || mark === null || ref === null) {
    const what =
      market === null
        ? 'no heatmap yet'
        : mark === null
          ? 'heatmap has no valid mark price'
          : invalid !== null
            ? `heatmap data is invalid (${invalid})`
            : `heatmap is ${ageMs} ms old (max ${maxAge} ms)`;
    const observed = market === null ? 'missing' : mark === null ? 'invalid mark' : invalid !== null ? 'invalid data' : ageMs;
    if (order.reduceOnly) {
      const noPrice = ref === null ? '; no price to convert the notional, so quantities are 0' : '';
      const w = reason('REDUCE_ONLY_STALE_DATA', `Reduce-only approved on stale data: ${what}${noPrice}.`, maxAge, observed);
      return verdict(base, 'APPROVE', req.q, req.n, [], [w], 100, null, null);
    }
    const reasons = [reason('HEATMAP_STALE', `Cannot assess a risk-adding order: ${what}.`, maxAge, observed)];
    if (state !== 'ACTIVE') reasons.push(tradingStateReason(state, ctx));
    return verdict(base, 'REJECT', 0, 0, reasons, [], 100, null, null);
  }

  const heatmap = market.heatmap;
  const isLimit = order.orderType === 'limit';
  const buy = order.side === 'buy';
  const adverseSide = buy ? 'long' : 'short';
  const anySide = policy.clusterSides === 'any';

  // The order book: used only when fresh, well-formed, not crossed and near the mark.
  const noBookWhy = bookProblem(market.orderBook, now, maxAge, mark, policy.maxBookMarkDeviationBps);
  const book: OrderBook | null = noBookWhy === null ? market.orderBook : null;
  // A limit that reaches the touch (with no usable book: the mark) executes now, through
  // the mark: it is walked and capped like a market order, and its cluster distance is the
  // nearer of the mark's and the limit's. Only a passive limit is judged at its limit price.
  const touch = book === null ? mark : buy ? (book.asks[0]?.price ?? mark) : (book.bids[0]?.price ?? mark);
  const marketable = isLimit && (buy ? ref >= touch : ref <= touch);
  const walk = !isLimit || marketable;
  const passiveLimit = isLimit && !marketable;
  // USD caps convert to quantity at the higher of the limit and the mark for a marketable
  // order, so it never gets more quantity than the same market order.
  const capPx = marketable ? Math.max(ref, mark) : ref;
  const buffer = policy.noTradeBufferBps / tod;

  // One pass over the clusters: nearest of any kind (reported), nearest relevant major
  // (buffer, proximity, thinning), the relevant major zone holding a limit price, and the
  // relevant non-major zone holding a passive limit price (the largest, for the message).
  let nearest: Cluster | null = null;
  let nearestD = Infinity;
  let major: Cluster | null = null;
  let majorD = Infinity;
  let holding: Cluster | null = null;
  let minorHolding: Cluster | null = null;
  for (const c of heatmap.clusters) {
    const dRef = distanceToZoneBps(ref, c, mark); // every zone is valid here (heatmapProblem)
    const d = marketable ? Math.min(dRef, distanceToZoneBps(mark, c, mark)) : dRef;
    if (d < nearestD) {
      nearest = c;
      nearestD = d;
    }
    if (!(anySide || c.side === adverseSide)) continue;
    if (!c.major) {
      // A marketable limit is judged like a market order: only a resting limit price counts.
      if (passiveLimit && dRef === 0 && (minorHolding === null || c.notionalUsd > minorHolding.notionalUsd)) minorHolding = c;
      continue;
    }
    if (isLimit && dRef === 0) {
      if (holding === null || c.notionalUsd > holding.notionalUsd) holding = c;
      if (passiveLimit) continue; // LIMIT_PRICE_IN_CLUSTER says it, not NO_TRADE_BUFFER
    }
    if (d < majorD) {
      major = c;
      majorD = d;
    }
  }
  const nearestCluster: NearestCluster | null = nearest
    ? { side: nearest.side, peakPrice: nearest.peakPrice, distanceBps: r2(nearestD), notionalUsd: nearest.notionalUsd, major: nearest.major }
    : null;

  // Crowding: adding to the crowded side tightens size and slippage limits.
  const cr = heatmap.crowding;
  const crowded = cr.side === adverseSide && cr.strength >= policy.crowdingMinStrength;
  const crowdF = crowded ? 1 - policy.crowdedSizePenalty * clamp01(cr.strength) : 1;

  // Buffer widens as liquidity thins; proximity shrinks size smoothly outside it.
  const inBuffer = major !== null && majorD <= buffer + BOUNDARY_EPS_BPS;
  const proxF = major === null ? 1 : inBuffer ? policy.proximityMinFactor : proximityFactor(policy, majorD - buffer);

  // Market and marketable orders: the book, scaled by time of day and thinned near a major cluster.
  const thin =
    major === null
      ? 1
      : policy.depthThinningMinFactor + (1 - policy.depthThinningMinFactor) * clamp01(majorD / policy.depthThinningRangeBps);
  const depthScale = tod * thin;
  const slipBudget = policy.maxSlippageBps * crowdF;

  const sizeUse = clamp01(req.n / (policy.maxNotionalUsd * tod * crowdF));
  const crowdRisk = cr.side === adverseSide ? clamp01(cr.strength) : 0;
  const proxRisk = major === null ? 0 : 1 - clamp01(majorD / (buffer + policy.proximityRangeBps));
  const modelScore = (heatmap.risk as Heatmap['risk'] | null | undefined)?.score;
  const modelRisk = isFiniteNumber(modelScore) ? clamp01(modelScore / 100) : 1;

  // 10. Reduce-only: never blocked by cluster, size, crowding or state rules.
  if (order.reduceOnly) {
    const slip = walk && book !== null ? estimateSlippageBps(book, order.side, req.q, depthScale) : null;
    const slipUse = slip ? clamp01(slip.slippageBps / slipBudget) : 0;
    const score = riskScore(proxRisk, sizeUse, slipUse, crowdRisk, modelRisk);
    return verdict(base, 'APPROVE', req.q, req.n, [], [], score, nearestCluster, slip ? slip.slippageBps : null);
  }

  const reasons: Reason[] = [];
  const warnings: Reason[] = [];
  let hardReject = false;

  // 2. Trading state (kill switch).
  if (state !== 'ACTIVE') hardReject = rejectWith(reasons, tradingStateReason(state, ctx));

  // 5. Limit orders: collar, then a limit price inside a cluster zone.
  let capQ = Infinity;
  const caps: Cap[] = [];
  if (isLimit) {
    const devBps = (Math.abs(ref - mark) / mark) * 10_000;
    if (devBps > policy.priceCollarBps + BOUNDARY_EPS_BPS) {
      hardReject = rejectWith(reasons,
        reason(
          'PRICE_COLLAR',
          `Limit price ${ref} is ${r2(devBps)} bps from the mark ${mark} (collar ${policy.priceCollarBps} bps): likely an error.`,
          policy.priceCollarBps,
          r2(devBps),
        ),
      );
    }
    if (holding !== null) {
      const zone = `${holding.side} cluster ${holding.priceLow}-${holding.priceHigh} (${r2(holding.notionalUsd)} USD)`;
      hardReject = rejectWith(reasons, reason('LIMIT_PRICE_IN_CLUSTER', `Limit price ${ref} lies inside the major ${zone}.`, `${holding.priceLow}-${holding.priceHigh}`, ref));
    } else if (minorHolding !== null) {
      const z = minorHolding;
      const zone = `${z.side} cluster ${z.priceLow}-${z.priceHigh} (${r2(z.notionalUsd)} USD, not major)`;
      if (policy.limitInClusterAction === 'reject') {
        hardReject = rejectWith(reasons, reason('LIMIT_PRICE_IN_CLUSTER', `Limit price ${ref} lies inside the ${zone}.`, `${z.priceLow}-${z.priceHigh}`, ref));
      } else {
        // factor x requested: non-decreasing in the request, so asking for more never yields less.
        const f = policy.limitInClusterSizeFactor;
        caps.push({
          code: 'LIMIT_PRICE_IN_CLUSTER',
          q: f >= 1 ? Infinity : f * req.q,
          note: `limit price ${ref} lies inside the ${zone}; size limited to ${f} of the requested size`,
          warnAlways: true,
        });
      }
    }
  }

  // 3. No-trade buffer (distance <= buffer is inside).
  if (inBuffer && major !== null) {
    const widened = majorD > policy.noTradeBufferBps + BOUNDARY_EPS_BPS;
    hardReject = rejectWith(reasons,
      reason(
        'NO_TRADE_BUFFER',
        `${marketable ? `Marketable limit ${ref} (executes through the mark ${mark})` : `Reference price ${ref}`} is ${r2(majorD)} bps from the major ${major.side} cluster at ${major.peakPrice} (buffer ${r2(buffer)} bps).`,
        r2(buffer),
        r2(majorD),
      ),
    );
    if (widened) {
      const { hour } = utcHourAndWeekday(now);
      reasons.push(
        reason(
          'TIME_OF_DAY',
          `Low-liquidity hour (${hour}:00 UTC, multiplier ${r2(tod)}) widened the buffer from ${policy.noTradeBufferBps} to ${r2(buffer)} bps.`,
          r2(tod),
          hour,
        ),
      );
    }
  }

  // 8. Own liquidation inside a major cluster of the same side: size cannot move it (isolated margin).
  // A marketable order's entry lies between the mark and its limit, so its liquidation lies
  // in the matching interval: any overlap with the zone rejects.
  if (order.leverage !== undefined) {
    const mmr = policy.maintenanceMarginRate;
    const entryLo = marketable ? Math.min(ref, mark) : ref;
    const entryHi = marketable ? Math.max(ref, mark) : ref;
    const liqA = liquidationPrice(order.side, entryLo, order.leverage, mmr);
    const liqB = liquidationPrice(order.side, entryHi, order.leverage, mmr);
    const liqLo = Math.min(liqA, liqB);
    const liqHi = Math.max(liqA, liqB);
    const liq = liqLo === liqHi ? r2(liqLo) : `${r2(liqLo)}-${r2(liqHi)}`;
    // The entry that needs the lowest leverage to clear the zone (buy: highest, sell: lowest).
    const worst = buy ? entryHi : entryLo;
    for (const c of heatmap.clusters) {
      if (!c.major || c.side !== adverseSide || liqHi < c.priceLow || liqLo > c.priceHigh) continue;
      // Leverage that puts the liquidation just beyond the zone's far edge.
      const edge = buy ? c.priceLow : c.priceHigh;
      const maxLev = buy ? 1 / (1 + mmr - edge / worst) : 1 / (edge / worst - 1 + mmr);
      const hint = Number.isFinite(maxLev) && maxLev >= 1 ? ` Leverage below ${r2(Math.floor(maxLev * 100) / 100)}x clears it.` : '';
      hardReject = rejectWith(reasons,
        reason(
          'OWN_LIQUIDATION_IN_CLUSTER',
          `At ${order.leverage}x the position's liquidation price ${liq} lies inside the major ${c.side} cluster ${c.priceLow}-${c.priceHigh}.${hint}`,
          `${c.priceLow}-${c.priceHigh}`,
          liq,
        ),
      );
      break;
    }
  }

  // 9. Max notional (a marketable order valued at capPx: a sell below the mark fills near the mark).
  const valueN = capPx === ref ? req.n : req.q * capPx;
  if (valueN > policy.maxNotionalUsd) {
    if (policy.maxNotionalAction === 'reject') {
      hardReject = rejectWith(reasons, reason('MAX_NOTIONAL', `Order notional ${r2(valueN)} USD exceeds the per-order maximum ${policy.maxNotionalUsd} USD.`, policy.maxNotionalUsd, r2(valueN)));
    } else {
      caps.push({ code: 'MAX_NOTIONAL', q: policy.maxNotionalUsd / capPx, note: `per-order maximum ${policy.maxNotionalUsd} USD` });
    }
  }

  // 6, 7, 4. Nested size caps: time of day, then crowding, then cluster proximity.
  const todNotional = policy.maxNotionalUsd * tod;
  const crowdNotional = todNotional * crowdF;
  const proxNotional = crowdNotional * proxF;
  const proxCapActive = proxF < 1 && !inBuffer;
  if (tod < 1) caps.push({ code: 'TIME_OF_DAY', q: todNotional / capPx, note: `time-of-day multiplier ${r2(tod)} caps size at ${r2(todNotional)} USD` });
  if (crowdF < 1) {
    caps.push({
      code: 'CROWDED_SIDE',
      q: crowdNotional / capPx,
      note: `${cr.side}s are crowded (strength ${r2(cr.strength)}); adding to them caps size at ${r2(crowdNotional)} USD`,
    });
  }
  if (proxCapActive && major !== null) {
    caps.push({
      code: 'CLUSTER_PROXIMITY',
      q: proxNotional / capPx,
      note: `major ${major.side} cluster at ${major.peakPrice} is ${r2(majorD)} bps away; size factor ${r2(proxF)} caps size at ${r2(proxNotional)} USD`,
    });
  }

  // 4. Slippage (market and marketable orders): walk the scaled book; no usable book -> conservative fallback cap.
  let slipRequested: number | null = null;
  if (walk) {
    if (book !== null) {
      const est = estimateSlippageBps(book, order.side, req.q, depthScale);
      slipRequested = est.slippageBps;
      const q = maxQuantityWithinSlippage(book, order.side, slipBudget, depthScale);
      const depthNote = est.exhausted ? ` and exceeds the usable depth (${r2(est.filledQuantity)} at depth scale ${r2(depthScale)})` : '';
      caps.push({
        code: 'SLIPPAGE_LIMIT',
        q,
        note: `expected slippage ${r2(est.slippageBps)} bps${depthNote} vs budget ${r2(slipBudget)} bps`,
        limit: r2(slipBudget),
        observed: r2(est.slippageBps),
      });
    } else {
      const n = policy.noBookMaxNotionalUsd * tod * crowdF;
      caps.push({ code: 'NO_ORDER_BOOK', q: n / capPx, note: `no usable order book (${noBookWhy}); fallback cap ${r2(n)} USD`, warnAlways: true });
    }
  }

  // Compose: approved = min(requested, every floored cap); each cap the request exceeds is a reason.
  for (const c of caps) {
    const floored = floorToStep(c.q, policy.quantityStep);
    if (floored < req.q) {
      if (floored < capQ) capQ = floored;
      reasons.push(
        reason(
          c.code,
          `Allows at most ${floored} of the ${req.q} requested: ${c.note}.`,
          c.limit ?? floored,
          c.observed ?? req.q,
        ),
      );
    } else if (c.warnAlways || c.code === 'CLUSTER_PROXIMITY' || c.code === 'CROWDED_SIDE') {
      warnings.push(reason(c.code, `Within limits, but note: ${c.note}.`, c.limit ?? floored, c.observed ?? req.q));
    }
  }

  let approvedQ = hardReject ? 0 : Math.min(req.q, capQ);
  if (!hardReject) {
    const approvedN = approvedQ === req.q ? req.n : approvedQ * ref;
    if (approvedQ < policy.minQuantity || approvedN < policy.minNotionalUsd) {
      const byQty = approvedQ < policy.minQuantity;
      reasons.push(
        reason(
          'BELOW_MIN_SIZE',
          byQty
            ? `Approvable quantity ${approvedQ} is below the minimum ${policy.minQuantity}.`
            : `Approvable notional ${r2(approvedN)} USD is below the minimum ${policy.minNotionalUsd} USD.`,
          byQty ? policy.minQuantity : policy.minNotionalUsd,
          byQty ? approvedQ : r2(approvedN),
        ),
      );
      approvedQ = 0;
    }
  }

  const rejected = hardReject || approvedQ === 0;
  const decision = rejected ? 'REJECT' : approvedQ < req.q ? 'RESIZE' : 'APPROVE';
  const approvedN = rejected ? 0 : decision === 'APPROVE' ? req.n : approvedQ * ref;
  const execQ = rejected ? req.q : approvedQ;
  const expectedSlip =
    walk && book !== null ? (execQ === req.q ? slipRequested : estimateSlippageBps(book, order.side, execQ, depthScale).slippageBps) : null;
  const slipUse = slipRequested === null ? (walk ? 0.5 : 0) : clamp01(slipRequested / slipBudget);
  const score = riskScore(proxRisk, sizeUse, slipUse, crowdRisk, modelRisk);
  return verdict(base, decision, rejected ? 0 : approvedQ, approvedN, reasons, warnings, score, nearestCluster, expectedSlip);
}

interface Cap {
  code: ReasonCode;
  /** Largest quantity this rule allows (base units, before rounding). */
  q: number;
  note: string;
  limit?: number;
  observed?: number;
  /** Report as a warning even when it does not bind. */
  warnAlways?: boolean;
}

function proximityFactor(policy: PretradePolicy, bpsOutsideBuffer: number): number {
  const t = clamp01(bpsOutsideBuffer / policy.proximityRangeBps);
  return policy.proximityMinFactor + (1 - policy.proximityMinFactor) * t;
}

function tradingStateReason(state: TradingState, ctx: PretradeContext): Reason {
  const observed = `global=${ctx.tradingState.global} symbol=${ctx.tradingState.symbol}`;
  return state === 'HALTED'
    ? reason('TRADING_HALTED', 'Trading is halted: only reduce-only orders pass.', 'HALTED', observed)
    : reason('TRADING_REDUCING', 'Trading is reducing: only reduce-only orders pass.', 'REDUCING', observed);
}

/** Heuristic 0..100 (weights documented in policy.ts); informs, never decides. */
function riskScore(prox: number, size: number, slip: number, crowd: number, model: number): number {
  const score = Math.round(100 * clamp01(0.35 * prox + 0.2 * size + 0.15 * slip + 0.15 * crowd + 0.15 * model));
  return Number.isFinite(score) ? score : 100; // a NaN input is unknown risk: the worst
}
