import type { OrderBook, Side } from '../market-data.js';
import { bookDefect, bookReferencePrice, estimateSlippageBps } from '../pretrade/slippage.js';
import type { HeatmapParams } from './params.js';
import type { Cascades, CascadeSide, Cluster } from './types.js';

/**
 * Cascades: how the major clusters' forced orders would propagate through the book
 * (docs/model.md, "Cascades"). Per side, the nearest major cluster triggers; `forcedShare`
 * of its notional is sold (longs) or bought back (shorts) through the order book, walked exactly as the
 * gate walks an order (`estimateSlippageBps`, the one depth model) with every level
 * thinned by `depthFactor`; the price moves to the deepest level taken; every cluster of
 * the side whose near edge the move reaches adds its notional, and the walk repeats until
 * it reaches no further cluster or the move hits `maxMoveBps`.
 *
 * The book is read relative to its own mid (depth per bps from the touch) and carried to
 * the trigger price: the shape of the book is assumed to travel with the price. Beyond the
 * visible book, depth continues at its visible average (move = visible span x forced /
 * visible depth); with no usable book, or an empty side, the move is the cap.
 */

export type CascadeParams = HeatmapParams['cascade'];

interface Impact {
  bps: number;
  exhausted: boolean;
}

/** The move (bps of the book's mid) that selling (longs) or buying (shorts) `usd` through the thinned book causes. */
function impactBps(book: OrderBook | null, side: Side, usd: number, depthFactor: number): Impact {
  if (!(usd > 0)) return { bps: 0, exhausted: false };
  const ref = book === null ? null : bookReferencePrice(book);
  if (book === null || ref === null) return { bps: Infinity, exhausted: true };
  const est = estimateSlippageBps(book, side === 'long' ? 'sell' : 'buy', usd / ref, depthFactor);
  if (est.worstPrice === null) return { bps: Infinity, exhausted: true };
  const span = (Math.abs(ref - est.worstPrice) / ref) * 1e4;
  if (!est.exhausted) return { bps: span, exhausted: false };
  // Past the visible book: the same depth per bps as the visible part had.
  const visibleUsd = est.filledQuantity * ref;
  if (!(visibleUsd > 0) || !(span > 0)) return { bps: Infinity, exhausted: true };
  return { bps: (span * usd) / visibleUsd, exhausted: true };
}

const finiteNonNegative = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0);

/** Near edge of a cluster as seen from the mark on its side: the top of a long zone, the bottom of a short one. */
const nearEdge = (c: Cluster): number => (c.side === 'long' ? c.priceHigh : c.priceLow);

/** One side's cascade, or null when the side has no major cluster (or the mark is unusable). */
export function walkCascade(side: Side, mark: number, clusters: readonly Cluster[], book: OrderBook | null, p: CascadeParams): CascadeSide | null {
  if (!(mark > 0) || !Number.isFinite(mark)) return null;
  const long = side === 'long';
  const own = clusters.filter(
    (c) => c.side === side && Number.isFinite(c.priceLow) && Number.isFinite(c.priceHigh) && c.priceLow > 0 && c.priceLow <= c.priceHigh,
  );
  // Nearest the mark first: the order a falling (rising) price meets them in.
  own.sort((a, b) => (long ? nearEdge(b) - nearEdge(a) : nearEdge(a) - nearEdge(b)));
  const first = own.find((c) => c.major);
  if (!first) return null;
  const trigger = long ? Math.min(nearEdge(first), mark) : Math.max(nearEdge(first), mark);
  const reached = new Set<Cluster>();
  let forced = 0;
  let move = 0;
  let capped = false;
  let exhausted = false;
  let end = trigger;
  // Every cluster between the mark and the end of the move is liquidated on the way; at most
  // one more pass per cluster, so the walk ends.
  for (;;) {
    let added = false;
    for (const c of own) {
      if (reached.has(c)) continue;
      if (long ? nearEdge(c) < end : nearEdge(c) > end) continue;
      reached.add(c);
      forced += finiteNonNegative(c.notionalUsd) * p.forcedShare;
      added = true;
    }
    if (!added) break;
    const impact = impactBps(book, side, forced, p.depthFactor);
    exhausted = impact.exhausted;
    capped = !(impact.bps <= p.maxMoveBps);
    move = capped ? p.maxMoveBps : impact.bps;
    end = long ? trigger * (1 - move / 1e4) : trigger * (1 + move / 1e4);
  }
  const chain = own.filter((c) => reached.has(c));
  return {
    triggerPrice: trigger,
    triggerDistanceBps: (Math.abs(trigger - mark) / mark) * 1e4,
    moveBps: move,
    reachBps: (Math.abs(end - mark) / mark) * 1e4,
    endPrice: Math.max(0, end),
    forcedUsd: forced,
    chain: chain.map((c) => ({ peakPrice: c.peakPrice, priceLow: c.priceLow, priceHigh: c.priceHigh, notionalUsd: finiteNonNegative(c.notionalUsd), major: c.major })),
    capped,
    depthExhausted: exhausted,
  };
}

/** Both sides' cascades on a map: the book is used when it is well-formed and not crossed, else none (every walk runs to the cap). */
export function buildCascades(mark: number, clusters: readonly Cluster[], orderBook: OrderBook | null, p: CascadeParams): Cascades {
  const book = orderBook !== null && bookDefect(orderBook) === null ? orderBook : null;
  return {
    depth: book === null ? 'none' : 'book',
    forcedShare: p.forcedShare,
    depthFactor: p.depthFactor,
    maxMoveBps: p.maxMoveBps,
    long: walkCascade('long', mark, clusters, book, p),
    short: walkCascade('short', mark, clusters, book, p),
  };
}
