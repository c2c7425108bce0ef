import { finiteNumber as num, positionOfOrder, realizedLiquidation, type OiPoint, type RequestLimit, type VenueProfile } from '../venue-profile.js';

const RUBIK_PERIOD: Record<string, string> = { '5m': '5m', '15m': '15m', '30m': '30m', '1h': '1H' };
const DOC = 'https://www.okx.com/docs-v5/en/ (rate limit of each endpoint)';

/** OKX limits each public endpoint on its own, per IP, over 2 seconds. */
const PER_ENDPOINT: Record<string, number> = {
  instruments: 20,
  candles: 40,
  'history-candles': 20,
  books: 40,
  'funding-rate': 20,
  'funding-rate-history': 10,
  'mark-price': 10,
  tickers: 20,
  'open-interest-history': 5,
  'long-short-account-ratio-contract': 5,
  time: 10,
};
/** Anything else: the strictest common public limit. */
const OTHER = 'other';

/** OKX v5, USDT swaps. */
export const okx: VenueProfile = {
  id: 'okx',
  marketTypes: ['swap'],
  pageLimits: { ohlcv: 100, openInterest: 100, funding: 100, longShortRatio: 100 },
  // OKX pages funding history backwards from now; its latest 100 settlements cover 33 days
  // at 8h and 4 days at 1h, more than the lookback.
  fundingHistory: 'latest',
  // ccxt's unified OKX history is a per-currency aggregate: per instrument, ask rubik.
  async openInterestWindow({ ex, unified, timeframe, from, until, limit }) {
    const market = ex.market(unified);
    const rubik = (ex as unknown as Record<string, (p: Record<string, string>) => Promise<{ data?: unknown[] }>>)[
      'publicGetRubikStatContractsOpenInterestHistory'
    ]!;
    const res = await rubik({ instId: market.id ?? '', period: RUBIK_PERIOD[timeframe] ?? '5m', begin: String(from), end: String(until), limit: String(limit) });
    const out: OiPoint[] = [];
    for (const row of res.data ?? []) {
      if (!Array.isArray(row)) continue;
      const ts = num(row[0]);
      if (ts === undefined) continue;
      // [ts, oi (contracts), oiCcy (base units), oiUsd]
      out.push({ ts, amount: num(row[2]), valueUsd: num(row[3]) });
    }
    return out;
  },
  longShortRatioRequest: (timeframe, _from, until) => ({ period: timeframe, params: { end: String(until) } }),
  // Only in the raw instrument: maxMktSz, in contracts.
  marketOrderMax: (m) => Number((m.info as { maxMktSz?: string } | undefined)?.maxMktSz),
  // funding-rate?instId=ANY carries no mark: mark-price?instType=SWAP adds every mark.
  bulkTicks: ['fundingRates', 'markPrices'],
  orderBookCost: () => ({ books: 1 }),
  // ccxt appends /public to it.
  // 50 levels is books50-l2-tbt, which needs a VIP login: take the public 400-level `books`.
  streamBookLimit: () => undefined,
  // `liquidation-orders` is one channel for every swap; ccxt keeps each instrument's apart.
  watchLiquidations: (ex, unified) => ex.watchLiquidationsForSymbols([unified]),
  // ccxt parses only the first of a push's `details`: read them all. `posSide` is the
  // position's side (long/short; `net` in one-way mode, then the order's `side` decides);
  // `sz` is in contracts, `bkPx` the bankruptcy price.
  realizedLiquidations: (l, contractSize) => {
    const details = ((l.info ?? {}) as { details?: { ts?: string; posSide?: string; side?: string; bkPx?: string; sz?: string }[] }).details ?? [];
    return details.flatMap((d) => {
      const side = d.posSide === 'long' || d.posSide === 'short' ? d.posSide : positionOfOrder(d.side);
      return realizedLiquidation(d.ts, side, d.bkPx, (num(d.sz) ?? NaN) * contractSize);
    });
  },
  setStreamUrl: (ex, url) => {
    (ex.urls as unknown as { api: { ws: string } }).api.ws = url;
  },
  requestLimits: {
    ...Object.fromEntries(
      Object.entries(PER_ENDPOINT).map(([endpoint, limit]): [string, RequestLimit] => [endpoint, { limit, windowMs: 2_000, source: DOC }]),
    ),
    [OTHER]: { limit: 10, windowMs: 2_000, source: DOC },
  },
  requestCost(url) {
    const endpoint = url.pathname.split('/').pop() ?? '';
    return { [endpoint in PER_ENDPOINT ? endpoint : OTHER]: 1 };
  },
};
