import { realizedLiquidation, unifiedOpenInterestWindow, type VenueProfile } from '../venue-profile.js';

const RATIO_PERIOD: Record<string, string> = { '5m': '5min', '15m': '15min', '30m': '30min', '1h': '1h' };

/** Bybit v5, linear (USDT) contracts. */
export const bybit: VenueProfile = {
  id: 'bybit',
  // ccxt also asks for pre-launch instruments separately: two calls at startup.
  marketTypes: ['linear'],
  pageLimits: { ohlcv: 1000, openInterest: 200, funding: 200, longShortRatio: 500 },
  fundingHistory: 'forward',
  // `/v5/market/open-interest` reports base units only: USD is amount × the bar's close.
  openInterestWindow: unifiedOpenInterestWindow,
  longShortRatioRequest: (timeframe, from, until) => ({ period: RATIO_PERIOD[timeframe] ?? '5min', params: { startTime: from, endTime: until } }),
  // Only in the raw instrument: lotSizeFilter.maxMktOrderQty.
  marketOrderMax: (m) => Number((m.info as { lotSizeFilter?: { maxMktOrderQty?: string } } | undefined)?.lotSizeFilter?.maxMktOrderQty),
  // tickers?category=linear: every mark and funding rate in one request.
  bulkTicks: ['fundingRates'],
  orderBookCost: () => ({ requests: 1 }),
  // Bybit's public depths are 1, 50, 200 and 500.
  streamBookLimit: (depth) => [1, 50, 200, 500].find((d) => d >= depth) ?? 500,
  // `allLiquidation.<symbol>` (ccxt's default method): every liquidation, pushed every 500 ms.
  watchLiquidations: (ex, unified) => ex.watchLiquidations(unified),
  // Bybit's `S` is the liquidated POSITION's side: Buy means a long was liquidated. Size in base units (linear).
  realizedLiquidations: (l, contractSize) => {
    const s = typeof l.side === 'string' ? l.side.toLowerCase() : '';
    const side = s === 'buy' ? 'long' : s === 'sell' ? 'short' : undefined;
    return realizedLiquidation(l.timestamp, side, l.price, (l.contracts ?? NaN) * contractSize);
  },
  setStreamUrl: (ex, url) => {
    (ex.urls as unknown as { api: { ws: { public: Record<string, string> } } }).api.ws.public['linear'] = url;
  },
  requestLimits: {
    requests: { limit: 600, windowMs: 5_000, source: 'https://bybit-exchange.github.io/docs/v5/rate-limit (600 requests per 5 s per IP)' },
  },
  requestCost: () => ({ requests: 1 }),
};
