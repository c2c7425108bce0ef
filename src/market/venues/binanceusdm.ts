import { positionOfOrder, realizedLiquidation, requestedLimit, type RequestCost, unifiedOpenInterestWindow, type VenueProfile } from '../venue-profile.js';

const LIMITS_DOC = 'https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info';

/** Klines weigh by rows asked: 1 under 100, 2 under 500, 5 up to 1000, 10 above. */
function klinesWeight(limit: number): number {
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

/** Depth weighs by levels asked: 2 up to 50, 5 at 100, 10 at 500, 20 at 1000. */
function depthWeight(limit: number): number {
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

/** Binance USD-M futures (`fapi`). */
export const binanceusdm: VenueProfile = {
  id: 'binanceusdm',
  marketTypes: ['linear'],
  pageLimits: { ohlcv: 1000, openInterest: 500, funding: 1000, longShortRatio: 500 },
  fundingHistory: 'forward',
  // `openInterestHist` carries `sumOpenInterestValue`, which ccxt reads as openInterestValue.
  openInterestWindow: unifiedOpenInterestWindow,
  longShortRatioRequest: (timeframe, _from, until) => ({ period: timeframe, params: { endTime: until } }),
  // MARKET_LOT_SIZE, which ccxt parses as `limits.market`.
  marketOrderMax: (m) => m.limits.market?.max,
  // premiumIndex without a symbol: every mark and funding rate for weight 10.
  bulkTicks: ['fundingRates'],
  orderBookCost: (depth) => ({ weight: depthWeight(depth) }),
  // The limit sizes ccxt's REST snapshot (weight 2 at 50 levels); diffs follow on the socket.
  streamBookLimit: (depth) => depth,
  // `<symbol>@forceOrder`: at most one liquidation per symbol per second is pushed.
  watchLiquidations: (ex, unified) => ex.watchLiquidations(unified),
  // `S` is the liquidation order's side; the quantity is the accumulated fill `z` (ccxt reads
  // the last fill `l`), the price the average fill `ap`.
  realizedLiquidations: (l, contractSize) => {
    const o = (l.info ?? {}) as { z?: string; l?: string };
    return realizedLiquidation(l.timestamp, positionOfOrder(l.side), l.price, (Number(o.z ?? o.l ?? l.contracts) || NaN) * contractSize);
  },
  setStreamUrl: (ex, url) => {
    (ex.urls as unknown as { api: { ws: Record<string, string> } }).api.ws['future'] = url;
  },
  requestLimits: {
    weight: { limit: 2400, windowMs: 60_000, source: `${LIMITS_DOC} (REQUEST_WEIGHT 2400 per minute per IP)` },
    fundingHistory: { limit: 500, windowMs: 300_000, source: 'GET /fapi/v1/fundingRate: 500 per 5 min per IP, shared with fundingInfo' },
    futuresData: { limit: 1000, windowMs: 300_000, source: 'GET /futures/data/*: 1000 requests per 5 min per IP' },
  },
  requestCost(url): RequestCost {
    const path = url.pathname;
    const hasSymbol = url.searchParams.has('symbol');
    if (path.endsWith('/klines')) return { weight: klinesWeight(requestedLimit(url, 500)) };
    if (path.endsWith('/depth')) return { weight: depthWeight(requestedLimit(url, 500)) };
    if (path.endsWith('/premiumIndex')) return { weight: hasSymbol ? 1 : 10 };
    if (path.endsWith('/ticker/price')) return { weight: hasSymbol ? 1 : 2 };
    if (path.endsWith('/ticker/24hr')) return { weight: hasSymbol ? 1 : 40 };
    if (path.endsWith('/fundingRate')) return { weight: 1, fundingHistory: 1 };
    if (path.startsWith('/futures/data/')) return { weight: 1, futuresData: 1 };
    return { weight: 1 };
  },
};
