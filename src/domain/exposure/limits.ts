import type { Reason } from '../pretrade/types.js';
import type { ExposureLimits } from './policy.js';
import { positionLimitFor } from './policy.js';
import { accountPnl, purge } from './positions.js';
import type { AccountState, ApprovalBucket, OrderSide } from './types.js';
import { QTY_EPSILON } from './types.js';

/**
 * The exposure checks of one order against one account: worst case (every open reservation
 * fills), limits resized to what is left, reduce-only capped at the reserved-free part of
 * the position. The memory store runs this; the Redis store runs the same arithmetic in
 * one Lua script (exposure-reserve.lua), and both pass one contract suite.
 */

export const EXPOSURE_CODES = [
  'EXPOSURE_POSITION_LIMIT',
  'EXPOSURE_GROSS_LIMIT',
  'EXPOSURE_NET_LIMIT',
  'EXPOSURE_RESERVATIONS_LIMIT',
  'EXPOSURE_UNCONFIRMED',
  'ACCOUNT_ORDER_RATE_LIMIT',
  'ACCOUNT_NOTIONAL_RATE_LIMIT',
  'ACCOUNT_MAX_LOSS',
  'ACCOUNT_REDUCING',
  'REDUCE_ONLY_CAPPED',
  'REDUCE_ONLY_NO_POSITION',
  'REDUCE_ONLY_POSITION_UNCONFIRMED',
] as const;
export type ExposureCode = (typeof EXPOSURE_CODES)[number];

/** The gate's reason shape (a stable code, a message, the limit and what was observed) with the exposure codes. */
export type ExposureReason = Omit<Reason, 'code'> & { code: ExposureCode };

export interface ReserveOrder {
  decisionId: string;
  symbol: string;
  side: OrderSide;
  /** What the order may do before exposure is considered (base units, > 0). */
  quantity: number;
  /** The price it is valued at (the highest of mark, book mid and limit price). */
  price: number;
  reduceOnly: boolean;
  /** Approvals are rounded down to this quantity step (0 = no rounding). */
  quantityStep: number;
}

export interface ReserveContext {
  now: number;
  limits: ExposureLimits;
  /** Factor in (0, 1] on the USD limits (time of day and portfolio multiplier when the policy says so). */
  scale: number;
  /** Mark price of every symbol the gate knows. */
  marks: Readonly<Record<string, number>>;
  positionsMaxAgeMs: number;
  requireConfirmedPositions: boolean;
  reservationTtlMs: number;
  maxLossWindowMs: number;
}

export interface ReserveOutcome {
  decisionId: string;
  /** Base units approved and reserved; 0 = rejected. */
  quantity: number;
  reasons: ExposureReason[];
  warnings: ExposureReason[];
  /**
   * Set only when a trading limit (ACCOUNT_ORDER_RATE_LIMIT, ACCOUNT_NOTIONAL_RATE_LIMIT)
   * rejected or resized the order: ms until the same order would pass in full, if nothing
   * else were approved meanwhile (the gate answers it as the decision's `retryAfterMs`).
   */
  retryAfterMs?: number;
}

/** Quantities are compared with this relative tolerance (float sums over many reservations). */
const REL_TOL = 1e-9;

function floorToStep(q: number, step: number): number {
  if (!(step > 0)) return q;
  return Math.floor(q / step + REL_TOL) * step;
}

const usd = (x: number) => Math.round(x * 100) / 100;

/** Worst-case signed quantity range of each symbol: [position - open sells, position + open buys]. */
export function quantityRanges(state: AccountState): Map<string, { lo: number; hi: number }> {
  const out = new Map<string, { lo: number; hi: number }>();
  const at = (s: string) => {
    let r = out.get(s);
    if (!r) {
      const q = state.positions[s]?.quantity ?? 0;
      r = { lo: q, hi: q };
      out.set(s, r);
    }
    return r;
  };
  for (const s of Object.keys(state.positions)) at(s);
  for (const r of state.reservations) {
    if (r.side === 'buy') at(r.symbol).hi += r.quantity;
    else at(r.symbol).lo -= r.quantity;
  }
  return out;
}

/** Positions and reservations in USD at the marks: what GET /accounts/:id/exposure shows against the limits. */
export interface ExposureUse {
  /** Worst-case |notional| per symbol. */
  positionUsd: Record<string, number>;
  grossUsd: number;
  /** Worst-case |net| notional. */
  netUsd: number;
  openReservations: number;
  /** Symbols held or reserved with no mark (their exposure cannot be valued). */
  unpriced: string[];
}

export function exposureUse(state: AccountState, marks: Readonly<Record<string, number>>): ExposureUse {
  const positionUsd: Record<string, number> = {};
  let gross = 0;
  let high = 0;
  let low = 0;
  const unpriced: string[] = [];
  for (const [s, { lo, hi }] of quantityRanges(state)) {
    if (Math.abs(lo) <= QTY_EPSILON && Math.abs(hi) <= QTY_EPSILON) continue;
    const p = marks[s];
    if (p === undefined) {
      unpriced.push(s);
      continue;
    }
    const worst = Math.max(Math.abs(lo), Math.abs(hi)) * p;
    positionUsd[s] = worst;
    gross += worst;
    high += hi * p;
    low += lo * p;
  }
  return { positionUsd, grossUsd: gross, netUsd: Math.max(Math.abs(high), Math.abs(low)), openReservations: state.reservations.length, unpriced };
}

/**
 * Decides the exposure part of one order and, when any quantity is approved, reserves it
 * in `state` (mutated: expired reservations are dropped, a risk-adding approval stamps
 * `lastOpeningAt`, a max-loss breach sets `reducing`). Never approves more than asked.
 */
export function reserve(state: AccountState, order: ReserveOrder, ctx: ReserveContext): ReserveOutcome {
  purge(state, ctx.now, ctx.maxLossWindowMs);
  purgeApprovals(state, ctx.now, ctx.limits.approvalWindowMs);
  const out: ReserveOutcome = { decisionId: order.decisionId, quantity: 0, reasons: [], warnings: [] };
  const approved = order.reduceOnly ? reduceOnlyQuantity(state, order, ctx, out) : riskAddingQuantity(state, order, ctx, out);
  if (approved > 0) {
    out.quantity = approved;
    state.reservations.push({
      decisionId: order.decisionId,
      symbol: order.symbol,
      side: order.side,
      reduceOnly: order.reduceOnly,
      quantity: approved,
      price: order.price,
      expiresAt: ctx.now + ctx.reservationTtlMs,
    });
    if (!order.reduceOnly) state.lastOpeningAt = ctx.now;
    recordApproval(state, ctx.now, ctx.limits.approvalWindowMs, approved * valuation(order, ctx.marks));
  }
  return out;
}

/*
 * Trading limits: approved orders and approved notional per account over a sliding window
 * of approvalWindowMs, counted in buckets a tenth of the window wide. A bucket counts until
 * its END leaves the window, so every approval of the last approvalWindowMs is counted
 * (never more than the limit in any window, which a fixed window allows twice over across
 * its boundary) and the state stays bounded to 11 buckets however fast the account trades;
 * the price is refusing up to a tenth of the window early.
 */

/** Width of one approval bucket (ms). */
export function approvalBucketMs(windowMs: number): number {
  return Math.max(1, Math.floor(windowMs / 10));
}

/** The ms from `now` at which a bucket stops counting. */
function bucketExpiresIn(b: ApprovalBucket, now: number, windowMs: number): number {
  return b.at + approvalBucketMs(windowMs) + windowMs - now;
}

/** Drops the buckets that no longer count (their end left the window). */
export function purgeApprovals(state: AccountState, now: number, windowMs: number): void {
  state.approvals = state.approvals.filter((b) => bucketExpiresIn(b, now, windowMs) > 0);
}

function recordApproval(state: AccountState, now: number, windowMs: number, usdApproved: number): void {
  const w = approvalBucketMs(windowMs);
  const at = Math.floor(now / w) * w;
  const last = state.approvals[state.approvals.length - 1];
  if (last && last.at === at) {
    last.orders += 1;
    last.usd += usdApproved;
  } else state.approvals.push({ at, orders: 1, usd: usdApproved });
}

/** Orders and notional (USD) approved within the trading window ending at `now`. */
export function approvalUse(state: AccountState, now: number, windowMs: number): { orders: number; usd: number } {
  let orders = 0;
  let total = 0;
  for (const b of state.approvals) {
    if (bucketExpiresIn(b, now, windowMs) <= 0) continue;
    orders += b.orders;
    total += b.usd;
  }
  return { orders, usd: total };
}

/** What an order is valued at for the notional limits: the higher of its price and the mark. */
function valuation(order: Pick<ReserveOrder, 'symbol' | 'price'>, marks: Readonly<Record<string, number>>): number {
  return Math.max(marks[order.symbol] ?? 0, order.price);
}

/**
 * Ms until an order of `orderUsd` would pass both trading limits in full, as the buckets
 * expire oldest first (an order above the notional limit by itself: until the window is empty).
 */
function tradingRetryAfter(state: AccountState, now: number, limits: ExposureLimits, orderUsd: number): number {
  const cap = limits.maxApprovedNotionalUsd;
  const need = cap === null ? 0 : Math.min(orderUsd, cap);
  let { orders, usd: used } = approvalUse(state, now, limits.approvalWindowMs);
  const fits = () => orders < limits.maxApprovedOrders && (cap === null || used + need <= cap * (1 + REL_TOL));
  for (const b of state.approvals) {
    const ms = bucketExpiresIn(b, now, limits.approvalWindowMs);
    if (ms <= 0) continue;
    orders -= b.orders;
    used -= b.usd;
    if (fits()) return ms;
  }
  return limits.approvalWindowMs + approvalBucketMs(limits.approvalWindowMs);
}

/**
 * The age past which positions count as unconfirmed, given the last Redis failover seen
 * (null: none). A failover may have lost acknowledged writes (fills, reconciliations), so
 * a snapshot older than it confirms nothing: the max age shrinks to the time since the
 * failover (never below 0), and a reconciliation at or after it confirms again.
 */
export function positionsMaxAge(configuredMs: number, now: number, failoverAt: number | null): number {
  if (failoverAt === null) return configuredMs;
  return Math.min(configuredMs, Math.max(0, now - failoverAt));
}

/** Whether the account's positions are confirmed: reconciled recently, and after its last approved opening order. */
export function positionsConfirmed(state: AccountState, now: number, maxAgeMs: number): boolean {
  const r = state.reconciledAt;
  return r !== null && now - r <= maxAgeMs && (state.lastOpeningAt === null || r >= state.lastOpeningAt);
}

/** The reason for one code, its message built from the order, the limit and the observed value (both stores use it). */
export function exposureReason(code: ExposureCode, order: Pick<ReserveOrder, 'symbol' | 'side'>, limit: number | string | null, observed: number | string | null): ExposureReason {
  const what = `${order.side} of ${order.symbol}`;
  const messages: Record<ExposureCode, string> = {
    EXPOSURE_POSITION_LIMIT: `Worst-case ${order.symbol} position with this order (every open reservation filled) would be ${observed} USD, above the limit of ${limit} USD: resized to what is left, or rejected when nothing is.`,
    EXPOSURE_GROSS_LIMIT: `Worst-case gross exposure with this order would be ${observed} USD, above the account's limit of ${limit} USD: resized to what is left, or rejected when nothing is.`,
    EXPOSURE_NET_LIMIT: `Worst-case net exposure with this order would be ${observed} USD, above the account's limit of ${limit} USD: resized to what is left, or rejected when nothing is.`,
    EXPOSURE_RESERVATIONS_LIMIT: `The account has ${observed} open reservations, the most allowed (${limit}).`,
    ACCOUNT_ORDER_RATE_LIMIT: `The account had ${observed} orders approved within its trading window, the most allowed (${limit}): rejected until older approvals leave the window (retryAfterMs).`,
    ACCOUNT_NOTIONAL_RATE_LIMIT: `Notional approved for the account within its trading window would be ${observed} USD with this order, above its limit of ${limit} USD: resized to what is left, or rejected when nothing is (retryAfterMs).`,
    EXPOSURE_UNCONFIRMED: `The account's exposure cannot be confirmed (${observed}): risk-adding orders are rejected.`,
    ACCOUNT_MAX_LOSS: `The account lost ${observed} USD (realized in the window plus unrealized at the mark), above its max loss of ${limit} USD; it is now REDUCING until an admin resets it.`,
    ACCOUNT_REDUCING: `The account is REDUCING since it breached its max loss (${observed} USD); only reduce-only orders pass until an admin resets it.`,
    REDUCE_ONLY_CAPPED: `Reduce-only ${what} capped at the part of the position not already reserved by other reduce-only orders (${limit} USD of the ${observed} USD asked); more would flip the position.`,
    REDUCE_ONLY_NO_POSITION: `Reduce-only ${what}: the confirmed position has nothing on that side to reduce.`,
    REDUCE_ONLY_POSITION_UNCONFIRMED: `Reduce-only ${what}: no known position to reduce, and positions are not confirmed (reconciled ${observed === null ? 'never' : `${observed} ms ago`}, max age ${limit} ms, or not since the last opening order).`,
  };
  return { code, message: messages[code], limit, observed };
}

function reduceOnlyQuantity(state: AccountState, order: ReserveOrder, ctx: ReserveContext, out: ReserveOutcome): number {
  const pos = state.positions[order.symbol]?.quantity ?? 0;
  // A buy reduces a short, a sell a long: the closable size is the position's magnitude on the opposite side.
  const closable = order.side === 'buy' ? Math.max(0, -pos) : Math.max(0, pos);
  if (closable <= QTY_EPSILON) {
    if (positionsConfirmed(state, ctx.now, ctx.positionsMaxAgeMs)) {
      out.reasons.push(exposureReason('REDUCE_ONLY_NO_POSITION', order, 0, usd(order.quantity * order.price)));
      return 0;
    }
    const age = state.reconciledAt === null ? null : ctx.now - state.reconciledAt;
    const w = exposureReason('REDUCE_ONLY_POSITION_UNCONFIRMED', order, ctx.positionsMaxAgeMs, age);
    if (ctx.requireConfirmedPositions) {
      out.reasons.push(w);
      return 0;
    }
    out.warnings.push(w);
    return floorToStep(order.quantity, order.quantityStep);
  }
  let reserved = 0;
  for (const r of state.reservations) if (r.reduceOnly && r.symbol === order.symbol && r.side === order.side) reserved += r.quantity;
  const free = Math.max(0, closable - reserved);
  if (order.quantity <= free * (1 + REL_TOL)) return floorToStep(order.quantity, order.quantityStep);
  const q = floorToStep(free, order.quantityStep);
  out.reasons.push(exposureReason('REDUCE_ONLY_CAPPED', order, usd(free * order.price), usd(order.quantity * order.price)));
  return q > QTY_EPSILON ? q : 0;
}

function riskAddingQuantity(state: AccountState, order: ReserveOrder, ctx: ReserveContext, out: ReserveOutcome): number {
  const { limits, marks } = ctx;
  if (state.reducing) {
    out.reasons.push(exposureReason('ACCOUNT_REDUCING', order, 'REDUCING', usd(state.reducing.lossUsd)));
    return 0;
  }
  const prices: Record<string, number> = { ...marks, [order.symbol]: Math.max(marks[order.symbol] ?? 0, order.price) };
  if (limits.maxLossUsd !== null) {
    const pnl = accountPnl(state, prices, ctx.now, ctx.maxLossWindowMs);
    if (pnl !== null && -pnl > limits.maxLossUsd) {
      state.reducing = { since: ctx.now, lossUsd: -pnl };
      out.reasons.push(exposureReason('ACCOUNT_MAX_LOSS', order, limits.maxLossUsd, usd(-pnl)));
      return 0;
    }
  }
  if (state.reservations.length >= limits.maxOpenReservations) {
    out.reasons.push(exposureReason('EXPOSURE_RESERVATIONS_LIMIT', order, limits.maxOpenReservations, state.reservations.length));
    return 0;
  }
  const approvals = approvalUse(state, ctx.now, limits.approvalWindowMs);
  if (approvals.orders >= limits.maxApprovedOrders) {
    out.reasons.push(exposureReason('ACCOUNT_ORDER_RATE_LIMIT', order, limits.maxApprovedOrders, approvals.orders));
    out.retryAfterMs = tradingRetryAfter(state, ctx.now, limits, order.quantity * valuation(order, marks));
    return 0;
  }
  const ranges = quantityRanges(state);
  let others = 0;
  let high = 0;
  let low = 0;
  for (const [s, { lo, hi }] of ranges) {
    if (Math.abs(lo) <= QTY_EPSILON && Math.abs(hi) <= QTY_EPSILON) continue;
    const p = prices[s];
    if (p === undefined) {
      out.reasons.push(exposureReason('EXPOSURE_UNCONFIRMED', order, null, `no mark price for ${s}`));
      return 0;
    }
    if (s !== order.symbol) others += Math.max(Math.abs(lo), Math.abs(hi)) * p;
    high += hi * p;
    low += lo * p;
  }
  const p = prices[order.symbol] ?? order.price;
  const own = ranges.get(order.symbol) ?? { lo: 0, hi: 0 };
  const buy = order.side === 'buy';
  // The end of the range the order moves (hi for a buy, -lo for a sell); only it is bounded:
  // an account already beyond a limit (a lowered limit, a reconciliation) may trade back
  // toward it, never further out.
  const ext = buy ? own.hi : -own.lo;
  const q = order.quantity;
  const moved = Math.abs(ext + q) * p;
  const posCap = positionLimitFor(limits, order.symbol) * ctx.scale;
  const grossCap = limits.maxGrossNotionalUsd * ctx.scale;
  const netCap = limits.maxNetNotionalUsd * ctx.scale;
  const netMoved = buy ? high + q * p : -(low - q * p);
  const netBase = buy ? high : -low;
  const checks: [ExposureCode, room: number, limit: number, observed: number][] = [
    ['EXPOSURE_POSITION_LIMIT', posCap / p - ext, posCap, moved],
    ['EXPOSURE_GROSS_LIMIT', (grossCap - others) / p - ext, grossCap, others + moved],
    ['EXPOSURE_NET_LIMIT', (netCap - netBase) / p, netCap, Math.abs(netMoved)],
  ];
  const notionalCap = limits.maxApprovedNotionalUsd;
  if (notionalCap !== null) checks.push(['ACCOUNT_NOTIONAL_RATE_LIMIT', (notionalCap - approvals.usd) / p, notionalCap, approvals.usd + q * p]);
  let approved = q;
  for (const [code, rawRoom, limit, observed] of checks) {
    const room = Math.max(0, rawRoom);
    if (q <= room * (1 + REL_TOL)) continue;
    approved = Math.min(approved, room);
    out.reasons.push(exposureReason(code, order, usd(limit), usd(observed)));
    if (code === 'ACCOUNT_NOTIONAL_RATE_LIMIT') out.retryAfterMs = tradingRetryAfter(state, ctx.now, limits, q * p);
  }
  if (approved >= q) return floorToStep(q, order.quantityStep);
  const floored = floorToStep(approved, order.quantityStep);
  return floored > QTY_EPSILON ? floored : 0;
}
