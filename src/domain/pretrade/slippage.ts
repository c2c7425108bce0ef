import type { OrderBook, OrderBookLevel } from '../market-data.js';
import type { OrderSide } from './types.js';

/**
 * Book walking. Slippage is measured from the mid price (adverse = positive, for both
 * sides), so it includes half the spread. Each level's size is multiplied by
 * `depthScale` (0..1]: the gate's view of how much of the displayed depth will really be
 * there. Levels with a non-finite or non-positive price or size are skipped. No
 * allocation: the book is read in place.
 */

export interface SlippageEstimate {
  /** Slippage of the filled part, bps of mid; 0 when nothing fills. */
  slippageBps: number;
  /** How much of the quantity the (scaled) book can fill. */
  filledQuantity: number;
  /** Volume-weighted average fill price, or null when nothing fills. */
  averagePrice: number | null;
  /** Reference (mid, or the touch when one side is empty). */
  referencePrice: number | null;
  /** True when the scaled book ran out before the quantity was filled. */
  exhausted: boolean;
  /** Price of the deepest level the walk took from (where the price stands after it), or null when nothing fills. */
  worstPrice: number | null;
}

function usable(l: OrderBookLevel): boolean {
  return Number.isFinite(l.price) && l.price > 0 && Number.isFinite(l.size) && l.size > 0;
}

function firstUsable(levels: OrderBookLevel[]): number | null {
  for (const l of levels) if (usable(l)) return l.price;
  return null;
}

/** Mid of the best bid and ask; the touch of the side that exists when the other is empty; null for an empty book. */
export function bookReferencePrice(book: OrderBook): number | null {
  const bid = firstUsable(book.bids);
  const ask = firstUsable(book.asks);
  if (bid !== null && ask !== null) return (bid + ask) / 2;
  return bid ?? ask;
}

/**
 * Why the book cannot be trusted for a walk, or null when it can: both sides present,
 * every level finite and positive, bids descending and asks ascending, and not crossed
 * (best bid < best ask). A crossed or malformed book would price fills better than mid
 * (negative slippage) and lift every slippage cap, so the gate treats it as no book.
 */
export function bookDefect(book: OrderBook): string | null {
  if (!Array.isArray(book.bids) || !Array.isArray(book.asks)) return 'malformed';
  if (book.bids.length === 0 || book.asks.length === 0) return 'one side empty';
  let prev = Infinity;
  for (const l of book.bids) {
    if (!usable(l)) return 'invalid bid level';
    if (l.price > prev) return 'bids not descending';
    prev = l.price;
  }
  prev = 0;
  for (const l of book.asks) {
    if (!usable(l)) return 'invalid ask level';
    if (l.price < prev) return 'asks not ascending';
    prev = l.price;
  }
  const bid = book.bids[0]?.price ?? 0;
  const ask = book.asks[0]?.price ?? 0;
  if (bid >= ask) return `crossed (bid ${bid} >= ask ${ask})`;
  return null;
}

/** Walks the book for `quantity` (base units): a buy consumes asks, a sell consumes bids. */
export function estimateSlippageBps(
  book: OrderBook,
  side: OrderSide,
  quantity: number,
  depthScale: number,
): SlippageEstimate {
  const ref = bookReferencePrice(book);
  const levels = side === 'buy' ? book.asks : book.bids;
  let remaining = quantity > 0 ? quantity : 0;
  let filled = 0;
  let cost = 0;
  let worst = NaN;
  for (const l of levels) {
    if (remaining <= 0) break;
    if (!usable(l)) continue;
    const take = Math.min(remaining, l.size * depthScale);
    if (!(take > 0)) continue;
    filled += take;
    cost += take * l.price;
    remaining -= take;
    worst = l.price;
  }
  if (filled <= 0 || ref === null) {
    return { slippageBps: 0, filledQuantity: 0, averagePrice: null, referencePrice: ref, exhausted: quantity > 0, worstPrice: null };
  }
  const avg = cost / filled;
  const signed = side === 'buy' ? avg - ref : ref - avg;
  return {
    // Never negative: a fill better than mid only happens on a crossed book, which is not a gain to count on.
    slippageBps: signed > 0 ? (signed / ref) * 10_000 : 0,
    filledQuantity: filled,
    averagePrice: avg,
    referencePrice: ref,
    exhausted: remaining > quantity * 1e-12,
    worstPrice: worst,
  };
}

/**
 * Largest quantity whose VWAP stays within `budgetBps` of mid, by an exact walk against
 * the limit average P* = mid x (1 +/- budget): levels better than P* add slack, levels
 * worse spend it; the walk stops at the part that brings the average exactly to P*.
 * Bounded by the scaled visible depth. 0 for an empty or crossed book or a spread wider than the budget.
 */
export function maxQuantityWithinSlippage(
  book: OrderBook,
  side: OrderSide,
  budgetBps: number,
  depthScale: number,
): number {
  const ref = bookReferencePrice(book);
  if (ref === null || !(depthScale > 0) || !(budgetBps >= 0)) return 0;
  // A crossed book has no meaningful mid: allow nothing (evaluate treats it as no book anyway).
  const bid = firstUsable(book.bids);
  const ask = firstUsable(book.asks);
  if (bid !== null && ask !== null && bid >= ask) return 0;
  const buy = side === 'buy';
  const limit = buy ? ref * (1 + budgetBps / 10_000) : ref * (1 - budgetBps / 10_000);
  const levels = buy ? book.asks : book.bids;
  let qty = 0;
  // `slack` = how far the running fills are inside the limit, in quote units: sum q_i |P* - p_i|.
  let slack = 0;
  for (const l of levels) {
    if (!usable(l)) continue;
    const size = l.size * depthScale;
    const gap = buy ? limit - l.price : l.price - limit;
    if (gap >= 0) {
      qty += size;
      slack += size * gap;
      continue;
    }
    // This level is worse than P*: it spends slack. Take it whole while the slack lasts,
    // else the part x with x * |gap| = slack, and stop (later levels are worse still).
    const spend = size * -gap;
    if (spend <= slack) {
      qty += size;
      slack -= spend;
      continue;
    }
    qty += slack / -gap;
    break;
  }
  return qty;
}
