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
