/**
 * Market data as the domain sees it: venue-neutral, numbers in plain units.
 * Prices are quote currency (USD/USDT), sizes are base units, notionals are USD.
 * Times are Unix epoch milliseconds (UTC).
 */

/** One price bar from one venue, merged with the open interest and funding observed at its close. */
export interface Bar {
  /** Bar open time, epoch ms. */
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Base-unit volume, when known. */
  volume?: number | undefined;
  /** Open interest in USD at the bar's close. */
  openInterestUsd: number;
  /** Funding rate as a fraction per 8h (0.0001 = 0.01%), when known. */
  fundingRate?: number | undefined;
  /** Taker buy volume in base units, when the venue publishes it. */
  takerBuyVolume?: number | undefined;
  /** Taker sell volume in base units, when the venue publishes it. */
  takerSellVolume?: number | undefined;
  /** Long/short account ratio (longs / shorts), when the venue publishes it. */
  longShortRatio?: number | undefined;
}

export interface OrderBookLevel {
  price: number;
  /** Base units. */
  size: number;
}

/** Top levels of one venue's (or an aggregated) order book. Bids descending, asks ascending. */
export interface OrderBook {
  ts: number;
  bids: OrderBookLevel[];
  asks: OrderBookLevel[];
}

export type Side = 'long' | 'short';

/**
 * One realized (forced) liquidation as a venue, the simulator or a replay file reports it.
 * `side` is the liquidated POSITION's side (a long liquidated by a forced sell is `long`);
 * `price` is where it filled (Binance: the order's average fill price, not the trigger).
 */
export interface RealizedLiquidation {
  /** Epoch ms. */
  ts: number;
  side: Side;
  price: number;
  /** Notional in USD (quantity × price). */
  usd: number;
  /** Venue id, when the source knows it. */
  venue?: string | undefined;
}

/** The bar lengths a venue source may be configured for, and their length in ms. */
export const BAR_TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h'] as const;
export type BarTimeframe = (typeof BAR_TIMEFRAMES)[number];
export const TIMEFRAME_MS: Readonly<Record<BarTimeframe, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
};

/** The most common spacing between consecutive bars (their timeframe); 1 minute for fewer than two bars. */
export function inferIntervalMs(bars: readonly Bar[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < bars.length; i++) {
    const d = (bars[i]?.ts ?? 0) - (bars[i - 1]?.ts ?? 0);
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best = 60_000;
  let bestN = 0;
  for (const [d, n] of counts) if (n > bestN || (n === bestN && d < best)) [best, bestN] = [d, n];
  return best;
}

/**
 * Trading rules of one symbol as the venues publish them (ccxt `markets[symbol].precision`
 * and `.limits`), merged over the venues in the map with the strictest value winning
 * (largest tick and step, largest minimum, smallest maximum). A field is null when no
 * source publishes it; the pre-trade policy overrides any of them.
 */
export interface MarketSpec {
  /** Price increment (quote units). */
  tickSize: number | null;
  /** Quantity increment (base units). */
  quantityStep: number | null;
  /** Smallest order quantity (base units). */
  minQuantity: number | null;
  /** Largest order quantity (base units); for market orders the stricter market-order limit when published. */
  maxQuantity: number | null;
  /** Smallest order notional (USD). */
  minNotionalUsd: number | null;
  /** Highest leverage the venues allow. */
  maxLeverage: number | null;
}
