import type { Cluster, Heatmap } from '../heatmap/types.js';
import type { PretradeContext } from './evaluate.js';
import type { OrderBook } from '../market-data.js';
import { maintenanceRateAt, maxLeverageAt } from '../margin.js';
import { BOUNDARY_EPS_BPS, bpsApart, clamp01, finitePositive, floorToStep, isFiniteNumber, r2 } from './numbers.js';
import type { PretradePolicy } from './policy.js';
import { bookDefect, bookReferencePrice, estimateSlippageBps, type SlippageEstimate } from './slippage.js';
import { effectiveSpec, type EffectiveSpec } from './spec.js';
import { timeOfDayMultiplier } from './time-of-day.js';
import type { MarketView, OrderSide, PretradeOrder, TradingState } from './types.js';

/**
 * The facts of one check, computed once before any rule runs: the order's size and value,
 * the trading state, the effective trading rules, whether the market data can be used, the
 * reference prices, and one pass over the clusters. Rules read these and nothing else.
 */

/** The whole check's context but whether the symbol is known: an unknown one is rejected before any fact. */
export type FactsInput = Omit<PretradeContext, 'knownSymbol'>;

/** Why the market data cannot be used, as the freshness rule reports it. */
export interface Unusable {
  what: string;
  /** The age (ms) when the data has one, else a label. */
  observed: number | string;
}

/** The liquidity multipliers on the buffer and the size caps, each in (0, 1]. */
export interface Factors {
  tod: number;
  /** Realized volatility factor; `volatility` null when the heatmap does not say. */
  vol: number;
  volatility: number | null;
  /** Extreme-funding factor (1 unless the order runs with a cascade the regime points to); `percentile` null when unknown. */
  funding: number;
  fundingPercentile: number | null;
  /** Heatmap-confidence factor; `confidence` null when the map carries none (then the lowest factor). */
  conf: number;
  confidence: number | null;
}

/** What the rules know about the market, when its data is usable. */
export interface MarketFacts {
  heatmap: Heatmap;
  mark: number;
  /** Mid of the usable book, or null. */
  mid: number | null;
  /** The prices distances are measured from: the mark and the usable book's mid (the stricter of the two decides). */
  refPrices: readonly number[];
  /** The order's own price in messages: the limit price (limit), the mark (market). */
  ref: number;
  /** The usable order book, or null (then `noBookWhy` says why). */
  book: OrderBook | null;
  noBookWhy: string | null;
  /** The book's mid and its distance from the mark (bps), when the book has a mid at all. */
  bookMid: number | null;
  bookDevBps: number | null;
  isLimit: boolean;
  buy: boolean;
  /** Clusters whose cascade moves price against the order: long clusters for a buy, short for a sell. */
  adverseSide: 'long' | 'short';
  /** A limit that executes now (reaches the touch; with no usable book, within the band of the mark). */
  marketable: boolean;
  /** Market and marketable orders are walked through the book. */
  walk: boolean;
  passiveLimit: boolean;
  /** The entry the own-liquidation rule assumes: the one nearest the zones (buy: highest, sell: lowest). */
  worstEntry: number;
  /** No-trade buffer (bps) against `major`: the liquidity-widened buffer plus its side's cascade widening. */
  buffer: number;
  /** The buffer after the liquidity multipliers only (no cascade widening). */
  factorBuffer: number;
  /**
   * Cascade widening (bps) of the buffer against the adverse side's major clusters: share x
   * that side's cascade move, capped (0 without one). A cascade runs against the orders of
   * its adverse side only (a long cascade drives the price down, against a buy).
   */
  cascadeWidening: number;
  nearest: Cluster | null;
  nearestD: number;
  /**
   * The relevant major cluster the buffer binds on first (least distance beyond its side's
   * buffer; without cascades, the nearest) and its distance (bps): buffer and proximity.
   */
  major: Cluster | null;
  majorD: number;
  /** Distance (bps) to the nearest relevant major cluster: depth thinning. */
  nearestMajorD: number;
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
  /** Highest leverage whose liquidation clears every major zone of the order's side (+ clearance), and the zone that bounds it. */
  zoneLeverage: number;
  zoneLeverageCluster: Cluster | null;
}

export interface Facts {
  now: number;
  factors: Factors;
  state: TradingState;
  /** The raw global and symbol states, for the reason's `observed`. */
  observedState: string;
  /** Effective max age of market data (ms). */
  maxAge: number;
  ageMs: number | null;
  spec: EffectiveSpec;
  /** The price every notional is valued at (see docs): the highest of mark, book mid and limit price; null when there is none. */
  valuePx: number | null;
  /** Requested quantity (base units, a notional converted at valuePx and rounded down to the step) and notional (USD). */
  req: { q: number; n: number };
  /** The leverage the rules judge: given, or assumed (policy), or null (missing and required). */
  leverage: number | null;
  leverageAssumed: boolean;
  /**
   * The maintenance-margin rate (fraction of notional) of the position the order opens, from
   * the symbol's tier table at the requested notional (`req.n`): the gate does not see the
   * account's position, so an order adding to one is judged as if it opened alone (its rate is
   * then a lower bound; docs/pretrade-rules.md).
   */
  maintenanceRate: number;
  /** The highest leverage the tier table allows at the requested notional (Infinity when it does not say). */
  tierMaxLeverage: number;
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

/** Why the order book cannot be used (-> the no-book cap), or null when it can; its mid and distance from the mark when it has one. */
function bookFacts(
  book: OrderBook | null,
  now: number,
  maxAgeMs: number,
  skewMs: number,
  mark: number,
  maxDevBps: number,
): { why: string | null; mid: number | null; devBps: number | null } {
  if (book === null || typeof book !== 'object') return { why: 'none', mid: null, devBps: null };
  const age = now - book.ts;
  if (!(age <= maxAgeMs)) {
    return { why: Number.isFinite(age) ? `too old (${age} ms, max ${maxAgeMs} ms)` : 'too old (no valid timestamp)', mid: null, devBps: null };
  }
  if (age < -skewMs) return { why: `dated in the future (${-age} ms ahead, clock skew tolerance ${skewMs} ms)`, mid: null, devBps: null };
  const defect = cachedBookDefect(book);
  if (defect !== null) return { why: defect, mid: null, devBps: null };
  const mid = bookReferencePrice(book);
  if (mid === null) return { why: 'no mid', mid: null, devBps: null };
  const devBps = bpsApart(mid, mark, mark);
  if (!(devBps <= maxDevBps + BOUNDARY_EPS_BPS)) return { why: `mid ${mid} is ${r2(devBps)} bps from the mark ${mark} (max ${maxDevBps})`, mid, devBps };
  return { why: null, mid, devBps };
}

const validZone = (c: Cluster): boolean =>
  isFiniteNumber(c.priceLow) && isFiniteNumber(c.priceHigh) && c.priceLow > 0 && c.priceLow <= c.priceHigh;

/**
 * Why the heatmap cannot be trusted by the rules, or null. Heatmaps arrive as JSON
 * (NaN becomes null), so every field a rule reads is checked; a map with no liquidation
 * notional at all is missing data, not a calm market.
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
  const ladder = h.totalLongUsd + h.totalShortUsd;
  if (!(isFiniteNumber(ladder) && ladder > 0)) return 'no liquidation notional on the ladder';
  if (!(finitePositive(h.openInterestUsd))) return 'no open interest';
  const cascades = h.cascades as Heatmap['cascades'] | null | undefined;
  if (cascades !== undefined && cascades !== null) {
    for (const side of ['long', 'short'] as const) {
      // A side is null when it has no major cluster; anything else must carry a usable move.
      const c = cascades[side] as { moveBps?: unknown } | null | undefined;
      if (c === null) continue;
      if (typeof c !== 'object' || !isFiniteNumber(c.moveBps) || c.moveBps < 0) return `invalid ${side} cascade`;
    }
  }
  return null;
}

function proximityFactor(policy: PretradePolicy, bpsOutsideBuffer: number): number {
  const t = clamp01(bpsOutsideBuffer / policy.proximityRangeBps);
  return policy.proximityMinFactor + (1 - policy.proximityMinFactor) * t;
}

/**
 * The no-trade buffer (bps of the mark) a new order on `side` gets at `now` on this map
 * against the clusters of its adverse side (a buy: the long clusters), cascade widening
 * and the confidence factor included: what the desk page draws.
 */
export function noTradeBufferFor(policy: PretradePolicy, heatmap: BufferMap, side: OrderSide, now: number, confidence: number | null): number {
  const f = marketFactors(policy, heatmap, side, timeOfDayMultiplier(policy, now), confidence);
  return bufferBps(policy, f) + cascadeWideningBps(policy, heatmap, adverseSideOf(side));
}

/** What of a map the no-trade buffer rests on (with the policy, the hour and the map's confidence). */
export type BufferMap = Pick<Heatmap, 'volatility' | 'funding' | 'cascades'>;

/**
 * The no-trade buffer (bps of the mark) a new order on `side` gets at `now` against each
 * side's major clusters, as the check applies it: the adverse side's is noTradeBufferFor,
 * the other side's has no cascade widening, and is null when the policy looks at the
 * adverse side only (`clusterSides: 'adverse'`). Post-trade judges fills with it.
 */
export function noTradeBuffersFor(
  policy: PretradePolicy,
  heatmap: BufferMap,
  side: OrderSide,
  now: number,
  confidence: number | null,
): Record<'long' | 'short', number | null> {
  const adverse = adverseSideOf(side);
  const f = marketFactors(policy, heatmap, side, timeOfDayMultiplier(policy, now), confidence);
  const other = policy.clusterSides === 'any' ? bufferBps(policy, f) : null;
  const widened = noTradeBufferFor(policy, heatmap, side, now, confidence);
  return adverse === 'long' ? { long: widened, short: other } : { long: other, short: widened };
}

/** The no-trade buffer after every liquidity multiplier. */
function bufferBps(policy: PretradePolicy, f: Factors): number {
  return policy.noTradeBufferBps / (f.tod * f.vol * f.funding * f.conf);
}

/**
 * The confidence factor: 1 at or above `confidenceFullAt`, falling linearly to
 * `confidenceMinFactor` at 0; unknown (or not a number in [0, 1]) is 0 (fail closed).
 */
export function confidenceFactor(policy: PretradePolicy, confidence: number | null): number {
  const c = isFiniteNumber(confidence) && confidence >= 0 && confidence <= 1 ? confidence : 0;
  return policy.confidenceMinFactor + (1 - policy.confidenceMinFactor) * clamp01(c / policy.confidenceFullAt);
}

/**
 * The confidence the gate decides with: the map's value, never above its weakest part (a
 * stored map cannot claim more than its parts give); null (treated as 0) when the map
 * carries none or any part is not a number in [0, 1].
 */
export function confidenceValueOf(c: MarketView['confidence']): number | null {
  if (c === null || c === undefined || typeof c !== 'object') return null;
  const inRange = (x: unknown): x is number => isFiniteNumber(x) && x >= 0 && x <= 1;
  const { value, unlocatedShare, venueCoverage, accuracy } = c;
  if (!(inRange(value) && inRange(unlocatedShare) && inRange(venueCoverage) && inRange(accuracy))) return null;
  return Math.min(value, 1 - unlocatedShare, venueCoverage, accuracy);
}

/**
 * How much (bps) the buffer against one side's major clusters widens for that side's
 * cascade on the map: cascadeBufferShare x its move, at most cascadeBufferMaxBps; 0 on a
 * map without cascades (written before they existed, or with no major cluster on the side).
 */
export function cascadeWideningBps(policy: PretradePolicy, heatmap: BufferMap, side: 'long' | 'short'): number {
  const move = heatmap.cascades?.[side]?.moveBps;
  if (!isFiniteNumber(move) || !(move > 0)) return 0;
  return Math.min(policy.cascadeBufferMaxBps, policy.cascadeBufferShare * move);
}

export function adverseSideOf(side: OrderSide): 'long' | 'short' {
  return side === 'buy' ? 'long' : 'short';
}

/** The volatility and funding factors from the heatmap (1 = no tightening). */
function marketFactors(policy: PretradePolicy, heatmap: BufferMap | null, side: OrderSide, tod: number, confidenceValue: number | null): Factors {
  const rv = heatmap?.volatility?.realizedBpsPerHour;
  const volatility = isFiniteNumber(rv) && rv >= 0 ? rv : null;
  const vol =
    volatility === null
      ? policy.volatilityUnknownFactor
      : volatility <= policy.volatilityReferenceBpsPerHour
        ? 1
        : Math.max(policy.volatilityMinFactor, policy.volatilityReferenceBpsPerHour / volatility);
  const p = heatmap?.funding?.percentile;
  const fundingPercentile = isFiniteNumber(p) && p >= 0 && p <= 1 ? p : null;
  // High funding: longs pay, longs crowded, a cascade runs down through the long clusters: buys are exposed (and vice versa).
  const hi = policy.fundingExtremePercentile;
  const exposed = fundingPercentile !== null && (side === 'buy' ? fundingPercentile >= hi : fundingPercentile <= 1 - hi);
  const confidence = isFiniteNumber(confidenceValue) && confidenceValue >= 0 && confidenceValue <= 1 ? confidenceValue : null;
  const conf = confidenceFactor(policy, confidence);
  return { tod, vol, volatility, funding: exposed ? policy.fundingExtremeFactor : 1, fundingPercentile, conf, confidence };
}

export function computeFacts(input: FactsInput): Facts {
  const { order, policy, market, now } = input;
  const tod = timeOfDayMultiplier(policy, now);
  const state = effectiveTradingState(input.tradingState.global, input.tradingState.symbol);
  const maxAge = policy.maxHeatmapAgeMs === null ? input.maxHeatmapAgeMs : Math.min(input.maxHeatmapAgeMs, policy.maxHeatmapAgeMs);
  const spec = effectiveSpec(policy, market?.spec);
  const mark = market && finitePositive(market.heatmap.markPrice) ? market.heatmap.markPrice : null;
  const limit = order.orderType === 'limit' && finitePositive(order.limitPrice) ? order.limitPrice : null;
  const ageMs = market ? now - market.asOf : null;
  const observedState = `global=${input.tradingState.global} symbol=${input.tradingState.symbol}`;
  const leverageAssumed = order.leverage === undefined && policy.leverageWhenMissing === 'assume';
  const leverage = order.leverage ?? (leverageAssumed ? policy.defaultLeverage : null);
  const heatmap = market?.heatmap ?? null;
  const factors = marketFactors(policy, heatmap, order.side, tod, confidenceValueOf(market?.confidence));

  const unusable = unusableData(market, mark, ageMs, maxAge, policy.clockSkewToleranceMs);
  const m = unusable === null && market !== null && mark !== null ? marketFacts(order, policy, market, mark, limit, factors, now, maxAge) : null;
  // Every notional is valued at the highest price the order could be worth: a far limit never shrinks it.
  const valuePx = Math.max(mark ?? 0, m?.mid ?? 0, limit ?? 0) || null;
  const req = requested(order, valuePx, spec.quantityStep);
  // The venue's tier for a position of this size: a larger position liquidates nearer its entry.
  const maintenanceRate = maintenanceRateAt(input.maintenanceMargin, req.n);
  const tierMaxLeverage = maxLeverageAt(input.maintenanceMargin, req.n);
  if (m !== null) Object.assign(m, zoneLeverageOf(m, policy, maintenanceRate));
  // Written out, not spread: spreading the common fields into the result cost ~25x the rest of the check (V8).
  if (m === null) {
    const none = unusable ?? { what: 'no price', observed: 'missing' };
    const risk = { prox: 0, size: 0, crowd: 0, model: 1 };
    return { now, factors, state, observedState, maxAge, ageMs, spec, valuePx, req, leverage, leverageAssumed, maintenanceRate, tierMaxLeverage, unusable: none, m: null, risk };
  }
  if (m.walk && m.book !== null) m.slip = estimateSlippageBps(m.book, order.side, req.q, m.depthScale);
  const cr = m.heatmap.crowding;
  const modelScore = (m.heatmap.risk as Heatmap['risk'] | null | undefined)?.score;
  const sizeBase = policy.maxNotionalUsd * tod * factors.vol * factors.funding * factors.conf * m.crowdF;
  const risk = {
    prox: m.major === null ? 0 : 1 - clamp01(m.majorD / (m.buffer + policy.proximityRangeBps)),
    size: clamp01(req.n / sizeBase),
    crowd: cr.side === m.adverseSide ? clamp01(cr.strength) : 0,
    model: isFiniteNumber(modelScore) ? clamp01(modelScore / 100) : 1,
  };
  return { now, factors, state, observedState, maxAge, ageMs, spec, valuePx, req, leverage, leverageAssumed, maintenanceRate, tierMaxLeverage, unusable: null, m, risk };
}

/** Quantity and notional of the request valued at `px` (0 where there is no price); a notional converts to whole steps. */
function requested(o: PretradeOrder, px: number | null, step: number): { q: number; n: number } {
  if (o.quantity !== undefined) return { q: o.quantity, n: px === null ? 0 : o.quantity * px };
  const n = o.notional ?? 0;
  return { q: px === null ? 0 : floorToStep(n / px, step), n };
}

/** Fail closed: missing, old, future-dated, empty or invalid data is unusable for risk-adding orders. */
function unusableData(market: MarketView | null, mark: number | null, ageMs: number | null, maxAge: number, skewMs: number): Unusable | null {
  if (market === null) return { what: 'no heatmap yet', observed: 'missing' };
  if (mark === null) return { what: 'heatmap has no valid mark price', observed: 'invalid mark' };
  // Invalid heatmap content (NaN arrives from JSON as null) is missing data, never "no risk".
  const invalid = heatmapProblem(market.heatmap);
  if (invalid !== null) return { what: `heatmap data is invalid (${invalid})`, observed: 'invalid data' };
  if (ageMs === null || !Number.isFinite(ageMs)) return { what: 'heatmap has no valid timestamp', observed: 'invalid timestamp' };
  if (ageMs > maxAge) return { what: `heatmap is ${ageMs} ms old (max ${maxAge} ms)`, observed: ageMs };
  // Dated in the future beyond the clock-skew tolerance: a broken clock, not fresh data.
  if (ageMs < -skewMs) return { what: `heatmap is dated ${-ageMs} ms in the future (clock skew tolerance ${skewMs} ms)`, observed: ageMs };
  return null;
}

function marketFacts(
  order: PretradeOrder,
  policy: PretradePolicy,
  market: MarketView,
  mark: number,
  limit: number | null,
  factors: Factors,
  now: number,
  maxAge: number,
): MarketFacts {
  const heatmap = market.heatmap;
  const isLimit = limit !== null;
  const buy = order.side === 'buy';
  const adverseSide = adverseSideOf(order.side);
  const anySide = policy.clusterSides === 'any';

  // The order book: used only when fresh, well-formed, not crossed and near the mark.
  const bf = bookFacts(market.orderBook, now, maxAge, policy.clockSkewToleranceMs, mark, policy.maxBookMarkDeviationBps);
  const book: OrderBook | null = bf.why === null ? market.orderBook : null;
  const mid = book === null ? null : bf.mid;
  const refPrices = mid === null ? [mark] : [mark, mid];
  // A limit executes now when it reaches the touch; with no usable book, when it is within the band of the mark.
  let marketable = false;
  if (limit !== null) {
    if (book !== null) {
      const touch = buy ? (book.asks[0]?.price ?? mark) : (book.bids[0]?.price ?? mark);
      marketable = buy ? limit >= touch : limit <= touch;
    } else {
      const band = (mark * policy.noBookMarketableBandBps) / 10_000;
      marketable = buy ? limit >= mark - band : limit <= mark + band;
    }
  }
  const walk = !isLimit || marketable;
  const passiveLimit = isLimit && !marketable;
  const ref = limit ?? mark;
  // Every price the order may fill at: its limit if passive; the reference prices (and the limit) otherwise.
  const entries = passiveLimit ? [ref] : marketable ? [...refPrices, ref] : refPrices;
  const worstEntry = buy ? Math.max(...entries) : Math.min(...entries);
  const factorBuffer = bufferBps(policy, factors);
  const cascadeWidening = cascadeWideningBps(policy, heatmap, adverseSide);
  const bufferAgainst = (c: Cluster): number => (c.side === adverseSide ? factorBuffer + cascadeWidening : factorBuffer);

  // One pass over the clusters.
  let nearest: Cluster | null = null;
  let nearestD = Infinity;
  let major: Cluster | null = null;
  let majorD = Infinity;
  let majorSlack = Infinity;
  let nearestMajorD = Infinity;
  let holding: Cluster | null = null;
  let minorHolding: Cluster | null = null;
  for (const c of heatmap.clusters) {
    const dLimit = limit === null ? Infinity : distanceToZoneBps(limit, c, mark);
    let d = passiveLimit ? dLimit : Math.min(dLimit, ...refPrices.map((p) => distanceToZoneBps(p, c, mark)));
    if (!Number.isFinite(d)) d = Infinity;
    if (d < nearestD) {
      nearest = c;
      nearestD = d;
    }
    if (!(anySide || c.side === adverseSide)) continue;
    if (!c.major) {
      // A marketable limit is judged like a market order: only a resting limit price counts.
      if (passiveLimit && dLimit === 0 && (minorHolding === null || c.notionalUsd > minorHolding.notionalUsd)) minorHolding = c;
      continue;
    }
    if (isLimit && dLimit === 0) {
      if (holding === null || c.notionalUsd > holding.notionalUsd) holding = c;
      if (passiveLimit) continue; // LIMIT_PRICE_IN_CLUSTER says it, not NO_TRADE_BUFFER
    }
    if (d < nearestMajorD) nearestMajorD = d;
    const slack = d - bufferAgainst(c);
    if (slack < majorSlack) {
      major = c;
      majorD = d;
      majorSlack = slack;
    }
  }
  const buffer = major === null ? factorBuffer : bufferAgainst(major);

  const cr = heatmap.crowding;
  const crowded = cr.side === adverseSide && cr.strength >= policy.crowdingMinStrength;
  const crowdF = crowded ? 1 - policy.crowdedSizePenalty * clamp01(cr.strength) : 1;
  const inBuffer = major !== null && majorD <= buffer + BOUNDARY_EPS_BPS;
  const proxF = major === null ? 1 : inBuffer ? policy.proximityMinFactor : proximityFactor(policy, majorD - buffer);
  const thin =
    major === null ? 1 : policy.depthThinningMinFactor + (1 - policy.depthThinningMinFactor) * clamp01(nearestMajorD / policy.depthThinningRangeBps);
  return {
    heatmap,
    mark,
    mid,
    refPrices,
    ref,
    book,
    noBookWhy: bf.why,
    bookMid: bf.mid,
    bookDevBps: bf.devBps,
    isLimit,
    buy,
    adverseSide,
    marketable,
    walk,
    passiveLimit,
    worstEntry,
    buffer,
    factorBuffer,
    cascadeWidening,
    nearest,
    nearestD,
    major,
    majorD,
    nearestMajorD,
    holding,
    minorHolding,
    inBuffer,
    crowdF,
    proxF,
    depthScale: factors.tod * thin,
    slipBudget: policy.maxSlippageBps * crowdF,
    slip: null,
    // Set once the order's size (and so its maintenance-margin tier) is known: zoneLeverageOf.
    zoneLeverage: Infinity,
    zoneLeverageCluster: null,
  };
}

/** Highest leverage whose liquidation clears every major zone of the order's side (+ clearance) at maintenance rate `mmr`, and the zone that bounds it. */
function zoneLeverageOf(m: MarketFacts, policy: PretradePolicy, mmr: number): Pick<MarketFacts, 'zoneLeverage' | 'zoneLeverageCluster'> {
  let zoneLeverage = Infinity;
  let zoneLeverageCluster: Cluster | null = null;
  const clearance = (m.mark * policy.liqClearanceBps) / 10_000;
  for (const c of m.heatmap.clusters) {
    if (!(c.major && c.side === m.adverseSide)) continue;
    const bound = leverageClearing(m.buy, m.worstEntry, m.buy ? c.priceLow - clearance : c.priceHigh + clearance, mmr);
    if (bound < zoneLeverage) {
      zoneLeverage = bound;
      zoneLeverageCluster = c;
    }
  }
  return { zoneLeverage, zoneLeverageCluster };
}

/**
 * Highest leverage whose liquidation (first-order isolated margin, see domain/margin.ts)
 * from `entry` lies at or beyond `limitPrice` (a buy's at or below it, a sell's at or
 * above): Infinity when every leverage does, below 1 when none >= 1 does.
 */
export function leverageClearing(buy: boolean, entry: number, limitPrice: number, mmr: number): number {
  // buy: entry (1 - 1/L + mmr) <= X  <=>  1/L >= 1 + mmr - X/entry; sell: 1/L >= X/entry - 1 + mmr.
  const need = buy ? 1 + mmr - limitPrice / entry : limitPrice / entry - 1 + mmr;
  return need > 0 ? 1 / need : Infinity;
}
