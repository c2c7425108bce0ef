import type { Cluster, Heatmap } from '../heatmap/types.js';
import type { OrderBook } from '../market-data.js';
import { BOUNDARY_EPS_BPS, clamp01, finitePositive, isFiniteNumber, r2 } from './numbers.js';
import type { PretradePolicy } from './policy.js';
import { bookDefect, bookReferencePrice, estimateSlippageBps, type SlippageEstimate } from './slippage.js';
import { timeOfDayMultiplier } from './time-of-day.js';
import type { MarketView, OrderSide, PretradeOrder, TradingState } from './types.js';

/**
 * The facts of one check, computed once before any rule runs: the order's size, the
 * trading state, whether the market data can be used, the reference prices, and one pass
 * over the clusters. Rules read these and nothing else.
 */

export interface FactsInput {
  order: PretradeOrder;
  market: MarketView | null;
  tradingState: { global: TradingState; symbol: TradingState };
  policy: PretradePolicy;
  maxHeatmapAgeMs: number;
  now: number;
}

/** Why the market data cannot be used, as the freshness rule reports it. */
export interface Unusable {
  what: string;
  observed: number | string;
}

/** What the rules know about the market, when its data is usable. */
export interface MarketFacts {
  heatmap: Heatmap;
  mark: number;
  /** The price the order is judged at: the mark (market), the limit price (limit). */
  ref: number;
  /** The usable order book, or null (then `noBookWhy` says why). */
  book: OrderBook | null;
  noBookWhy: string | null;
  isLimit: boolean;
  buy: boolean;
  /** Clusters whose cascade moves price against the order: long clusters for a buy, short for a sell. */
  adverseSide: 'long' | 'short';
  /** A limit that reaches the touch (with no usable book: the mark) and executes now, through the mark. */
  marketable: boolean;
  /** Market and marketable orders are walked through the book. */
  walk: boolean;
  passiveLimit: boolean;
  /** Price USD caps convert at: the higher of limit and mark for a marketable order, else `ref`. */
  capPx: number;
  /** No-trade buffer (bps) after the liquidity multipliers. */
  buffer: number;
  nearest: Cluster | null;
  nearestD: number;
  /** Nearest relevant major cluster (buffer, proximity, thinning) and its distance (bps). */
  major: Cluster | null;
  majorD: number;
  /** The relevant major zone holding a limit price. */
  holding: Cluster | null;
  /** The relevant non-major zone holding a passive limit price (the largest). */
  minorHolding: Cluster | null;
  inBuffer: boolean;
  crowdF: number;
  proxF: number;
  depthScale: number;
  slipBudget: number;
  /** The book walk of the requested quantity (walked orders with a usable book), else null. */
  slip: SlippageEstimate | null;
}

export interface Facts {
  now: number;
  tod: number;
  state: TradingState;
  /** The raw global and symbol states, for the reason's `observed`. */
  observedState: string;
  /** Effective max age of market data (ms). */
  maxAge: number;
  ageMs: number | null;
  /** Requested quantity (base units) and notional (USD); 0 where there is no price to convert at. */
  req: { q: number; n: number };
  /** Set when the market data cannot be used. */
  unusable: Unusable | null;
  /** Set when it can. */
  m: MarketFacts | null;
  /** The rules' risk inputs 0..1 for the risk score. */
  risk: { prox: number; size: number; crowd: number; model: number };
}

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

/** Distance from `price` to the nearest edge of the cluster zone, in bps of `mark`; 0 inside. */
export function distanceToZoneBps(price: number, cluster: Cluster, mark: number): number {
  if (price < cluster.priceLow) return ((cluster.priceLow - price) / mark) * 10_000;
  if (price > cluster.priceHigh) return ((price - cluster.priceHigh) / mark) * 10_000;
  return 0;
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

const validZone = (c: Cluster): boolean =>
  isFiniteNumber(c.priceLow) && isFiniteNumber(c.priceHigh) && c.priceLow > 0 && c.priceLow <= c.priceHigh;

/**
 * Why the heatmap cannot be trusted by the rules, or null. Heatmaps arrive as JSON
 * (NaN becomes null), so every field a rule reads is checked.
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

function proximityFactor(policy: PretradePolicy, bpsOutsideBuffer: number): number {
  const t = clamp01(bpsOutsideBuffer / policy.proximityRangeBps);
  return policy.proximityMinFactor + (1 - policy.proximityMinFactor) * t;
}

export function computeFacts(input: FactsInput): Facts {
  const { order, policy, market, now } = input;
  const tod = timeOfDayMultiplier(policy, now);
  const state = effectiveTradingState(input.tradingState.global, input.tradingState.symbol);
  const maxAge = policy.maxHeatmapAgeMs === null ? input.maxHeatmapAgeMs : Math.min(input.maxHeatmapAgeMs, policy.maxHeatmapAgeMs);
  const mark = market && finitePositive(market.heatmap.markPrice) ? market.heatmap.markPrice : null;
  const ref = order.orderType === 'limit' ? (finitePositive(order.limitPrice) ? order.limitPrice : null) : mark;
  const req = requested(order, ref);
  const ageMs = market ? now - market.asOf : null;
  const observedState = `global=${input.tradingState.global} symbol=${input.tradingState.symbol}`;
  const base = { now, tod, state, observedState, maxAge, ageMs, req };
  const noRisk = { prox: 0, size: 0, crowd: 0, model: 1 };

  const unusable = unusableData(market, mark, ageMs, maxAge);
  if (unusable !== null || market === null || mark === null || ref === null) {
    return { ...base, unusable: unusable ?? { what: 'no price', observed: 'missing' }, m: null, risk: noRisk };
  }
  const m = marketFacts(order, policy, market, mark, ref, tod, now, maxAge, req.q);
  const cr = m.heatmap.crowding;
  const modelScore = (m.heatmap.risk as Heatmap['risk'] | null | undefined)?.score;
  const risk = {
    prox: m.major === null ? 0 : 1 - clamp01(m.majorD / (m.buffer + policy.proximityRangeBps)),
    size: clamp01(req.n / (policy.maxNotionalUsd * tod * m.crowdF)),
    crowd: cr.side === m.adverseSide ? clamp01(cr.strength) : 0,
    model: isFiniteNumber(modelScore) ? clamp01(modelScore / 100) : 1,
  };
  return { ...base, unusable: null, m, risk };
}

/** Fail closed: missing, old, future-dated or invalid data is unusable for risk-adding orders. */
function unusableData(market: MarketView | null, mark: number | null, ageMs: number | null, maxAge: number): Unusable | null {
  if (market === null) return { what: 'no heatmap yet', observed: 'missing' };
  if (mark === null) return { what: 'heatmap has no valid mark price', observed: 'invalid mark' };
  // Invalid heatmap content (NaN arrives from JSON as null) is missing data, never "no risk".
  const invalid = heatmapProblem(market.heatmap);
  if (invalid !== null) return { what: `heatmap data is invalid (${invalid})`, observed: 'invalid data' };
  // A heatmap dated more than maxAge in the future is broken data (clock skew beyond that is a fault): stale too.
  if (ageMs === null || !Number.isFinite(ageMs) || ageMs > maxAge || ageMs < -maxAge) {
    return { what: `heatmap is ${ageMs} ms old (max ${maxAge} ms)`, observed: ageMs ?? 'missing' };
  }
  return null;
}

function marketFacts(
  order: PretradeOrder,
  policy: PretradePolicy,
  market: MarketView,
  mark: number,
  ref: number,
  tod: number,
  now: number,
  maxAge: number,
  reqQ: number,
): MarketFacts {
  const heatmap = market.heatmap;
  const isLimit = order.orderType === 'limit';
  const buy = order.side === 'buy';
  const adverseSide = adverseSideOf(order.side);
  const anySide = policy.clusterSides === 'any';

  // The order book: used only when fresh, well-formed, not crossed and near the mark.
  const noBookWhy = bookProblem(market.orderBook, now, maxAge, mark, policy.maxBookMarkDeviationBps);
  const book: OrderBook | null = noBookWhy === null ? market.orderBook : null;
  const touch = book === null ? mark : buy ? (book.asks[0]?.price ?? mark) : (book.bids[0]?.price ?? mark);
  const marketable = isLimit && (buy ? ref >= touch : ref <= touch);
  const walk = !isLimit || marketable;
  const passiveLimit = isLimit && !marketable;
  const capPx = marketable ? Math.max(ref, mark) : ref;
  const buffer = policy.noTradeBufferBps / tod;

  // One pass over the clusters.
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

  const cr = heatmap.crowding;
  const crowded = cr.side === adverseSide && cr.strength >= policy.crowdingMinStrength;
  const crowdF = crowded ? 1 - policy.crowdedSizePenalty * clamp01(cr.strength) : 1;
  const inBuffer = major !== null && majorD <= buffer + BOUNDARY_EPS_BPS;
  const proxF = major === null ? 1 : inBuffer ? policy.proximityMinFactor : proximityFactor(policy, majorD - buffer);
  const thin =
    major === null ? 1 : policy.depthThinningMinFactor + (1 - policy.depthThinningMinFactor) * clamp01(majorD / policy.depthThinningRangeBps);
  const depthScale = tod * thin;
  return {
    heatmap,
    mark,
    ref,
    book,
    noBookWhy,
    isLimit,
    buy,
    adverseSide,
    marketable,
    walk,
    passiveLimit,
    capPx,
    buffer,
    nearest,
    nearestD,
    major,
    majorD,
    holding,
    minorHolding,
    inBuffer,
    crowdF,
    proxF,
    depthScale,
    slipBudget: policy.maxSlippageBps * crowdF,
    slip: walk && book !== null ? estimateSlippageBps(book, order.side, reqQ, depthScale) : null,
  };
}

export function adverseSideOf(side: OrderSide): 'long' | 'short' {
  return side === 'buy' ? 'long' : 'short';
}
