import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bar, MarketSpec } from '../../src/domain/market-data.js';
import { createMarketSource } from '../../src/market/index.js';
import { TransientMarketError, UnknownSymbolError } from '../../src/market/market-source.js';
import { mergeBars, specFromMarket, toUnifiedSymbol } from '../../src/market/ccxt-source.js';
import { mergeSpecs } from '../../src/market/market-spec.js';
import { binanceusdm } from '../../src/market/venues/binanceusdm.js';
import { VenueClockMonitor } from '../../src/modules/heatmaps/venue-clock.js';
import { buildCcxtHarness, buildFakeVenue, FIVE_MIN, NOW, T0, type CcxtHarness } from './ccxt-fake.js';

// ccxt's import costs about a second: every ccxt test lives in this file.

interface VenueCase {
  venue: string;
  /** Last path segment of each endpoint the service calls. */
  endpoints: { markets: string; ohlcv: string; oi: string; funding: string; fundingRate: string; book: string; mark: string };
  marketsCalls: number;
  bars: Bar[];
  tick: { markPrice: number; fundingRate: number; bestBid: { price: number; size: number }; bestAsk: { price: number; size: number } };
  /** The trading rules the canned instrument publishes, in base units. */
  spec: MarketSpec;
  rateLimited: { status: number; body: unknown };
  unavailable: { status: number; body: unknown };
}

const CASES: VenueCase[] = [
  {
    venue: 'binanceusdm',
    endpoints: {
      markets: 'exchangeInfo',
      ohlcv: 'klines',
      oi: 'openInterestHist',
      funding: 'fundingRate',
      fundingRate: 'premiumIndex',
      book: 'depth',
      mark: 'premiumIndex',
    },
    marketsCalls: 1,
    bars: [
      // Binance's raw klines carry the taker buy base volume (row[9]); the sell side is the rest.
      { ts: T0, open: 95000, high: 95100, low: 94900, close: 95050, volume: 120.5, openInterestUsd: 7_615_000_000, fundingRate: 0.00012, longShortRatio: 1.81, takerBuyVolume: 70.1, takerSellVolume: 50.4 },
      { ts: T0 + FIVE_MIN, open: 95050, high: 95200, low: 95000, close: 95150, volume: 98.2, openInterestUsd: 7_625_000_000, fundingRate: 0.00012, longShortRatio: 1.82, takerBuyVolume: 51, takerSellVolume: 47.2 },
      { ts: T0 + 2 * FIVE_MIN, open: 95150, high: 95160, low: 94800, close: 94850, volume: 210.7, openInterestUsd: 7_580_000_000, fundingRate: 0.00012, longShortRatio: 1.79, takerBuyVolume: 80.3, takerSellVolume: 130.4 },
    ],
    tick: { markPrice: 94760.5, fundingRate: 0.00011, bestBid: { price: 94760.4, size: 3.512 }, bestAsk: { price: 94760.5, size: 2.004 } },
    // LOT_SIZE max 1000 but MARKET_LOT_SIZE max 120; leverage is not in exchangeInfo.
    spec: { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: null },
    rateLimited: { status: 429, body: { code: -1003, msg: 'Too many requests; current limit of IP is 2400 requests per minute.' } },
    unavailable: { status: 503, body: { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' } },
  },
  {
    venue: 'bybit',
    endpoints: {
      markets: 'instruments-info',
      ohlcv: 'kline',
      oi: 'open-interest',
      funding: 'history',
      fundingRate: 'tickers',
      book: 'orderbook',
      mark: 'tickers',
    },
    // Bybit's markets load asks for pre-launch instruments separately.
    marketsCalls: 2,
    bars: [
      // Bybit reports OI in base units: USD = amount × the bar's close.
      { ts: T0, open: 95001.5, high: 95101, low: 94901.2, close: 95052, volume: 101.002, openInterestUsd: 52100 * 95052, fundingRate: 0.00005, longShortRatio: 1.0 },
      { ts: T0 + FIVE_MIN, open: 95052, high: 95201, low: 95001, close: 95151, volume: 77.31, openInterestUsd: 52300 * 95151, fundingRate: 0.00005, longShortRatio: 0.55 / 0.45 },
      { ts: T0 + 2 * FIVE_MIN, open: 95151, high: 95162, low: 94801.5, close: 94852.1, volume: 180.004, openInterestUsd: 51900.12 * 94852.1, fundingRate: 0.00005, longShortRatio: 1.5 },
    ],
    tick: { markPrice: 94761.2, fundingRate: 0.00007, bestBid: { price: 94761.9, size: 3.4 }, bestAsk: { price: 94762, size: 1.2 } },
    // maxOrderQty 1190 but maxMktOrderQty 500.
    spec: { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 500, minNotionalUsd: 5, maxLeverage: 100 },
    rateLimited: { status: 429, body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: NOW } },
    unavailable: { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
  },
  {
    venue: 'okx',
    endpoints: {
      markets: 'instruments',
      ohlcv: 'history-candles',
      oi: 'open-interest-history',
      funding: 'funding-rate-history',
      fundingRate: 'funding-rate',
      book: 'books',
      mark: 'mark-price',
    },
    marketsCalls: 1,
    bars: [
      // OKX settles every 4h here: 0.00006 per 4h is 0.00012 per 8h. OI from the rubik oiUsd column.
      { ts: T0, open: 94999, high: 95099.5, low: 94899, close: 95049.5, volume: 99, openInterestUsd: 2_874_000_000, fundingRate: 0.00012, longShortRatio: 1.2 },
      { ts: T0 + FIVE_MIN, open: 95049.5, high: 95199, low: 94999, close: 95149, volume: 80.1, openInterestUsd: 2_883_000_000, fundingRate: 0.00012, longShortRatio: 1.3 },
      { ts: T0 + 2 * FIVE_MIN, open: 95149, high: 95159.5, low: 94799, close: 94849.9, volume: 150.2, openInterestUsd: 2_852_000_000, fundingRate: 0.00012, longShortRatio: 1.25 },
    ],
    // Book sizes are contracts of 0.01 BTC; the tick reports base units.
    tick: { markPrice: 94758.9, fundingRate: 0.0001, bestBid: { price: 94758.8, size: 3.4 }, bestAsk: { price: 94759, size: 1.2 } },
    // Contracts of 0.01 BTC: lotSz and minSz 0.01 contracts = 0.0001 BTC; maxMktSz 12,000 contracts = 120 BTC.
    spec: { tickSize: 0.1, quantityStep: 0.0001, minQuantity: 0.0001, maxQuantity: 120, minNotionalUsd: null, maxLeverage: 100 },
    rateLimited: { status: 429, body: { code: '50011', msg: 'Too Many Requests', data: [] } },
    unavailable: { status: 503, body: { code: '50001', msg: 'Service temporarily unavailable. Please try again later.', data: [] } },
  },
];

const open: CcxtHarness[] = [];
async function harness(venue: string, overrides: Parameters<typeof buildCcxtHarness>[1] = {}): Promise<CcxtHarness> {
  const h = await buildCcxtHarness(venue, overrides);
  open.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.source.close()));
});

function expectBarsClose(actual: Bar[], expected: Bar[]): void {
  expect(actual.map((b) => b.ts)).toEqual(expected.map((b) => b.ts));
  actual.forEach((b, i) => {
    const e = expected[i] as Bar;
    for (const k of ['open', 'high', 'low', 'close', 'volume', 'openInterestUsd', 'fundingRate', 'longShortRatio'] as const) {
      expect(b[k], `${k} of bar ${i}`).toBeCloseTo(e[k] as number, 6);
    }
    // Taker flow only where the venue's klines carry it (Binance): absent elsewhere, not zero.
    for (const k of ['takerBuyVolume', 'takerSellVolume'] as const) {
      if (e[k] === undefined) expect(b, `${k} of bar ${i}`).not.toHaveProperty(k);
      else expect(b[k], `${k} of bar ${i}`).toBeCloseTo(e[k], 9);
    }
  });
}

describe.each(CASES)('ccxt source on $venue (canned raw responses)', (c) => {
  it('when bars are fetched, then closed klines come back merged with the OI at each close and funding per 8h', async () => {
    const h = await harness(c.venue);
    const bars = await h.source.fetchBars('BTCUSDT', c.venue, T0 - FIVE_MIN);
    expectBarsClose(bars, c.bars);
    expect(h.venue.count(c.endpoints.markets)).toBe(c.marketsCalls);
    expect(h.venue.count(c.endpoints.ohlcv)).toBe(1);
    expect(h.venue.count(c.endpoints.oi)).toBe(1);
    expect(h.venue.count(c.endpoints.funding)).toBe(1);
  });

  it('when polled again with the last bar, then only newer closed bars are returned and markets are not reloaded', async () => {
    const h = await harness(c.venue);
    await h.source.fetchBars('BTCUSDT', c.venue, T0 - FIVE_MIN);
    const next = await h.source.fetchBars('BTCUSDT', c.venue, T0 + FIVE_MIN);
    expectBarsClose(next, c.bars.slice(2));
    expect(h.venue.count(c.endpoints.markets)).toBe(c.marketsCalls);
  });

  it('when the last bar is still open, then nothing newer than it is requested', async () => {
    const h = await harness(c.venue);
    const bars = await h.source.fetchBars('BTCUSDT', c.venue, T0 + 2 * FIVE_MIN);
    expect(bars).toEqual([]);
    expect(h.venue.count(c.endpoints.ohlcv)).toBe(0);
  });

  it('when a tick is fetched, then it carries the mark price, funding per 8h and the top of book in base units', async () => {
    const h = await harness(c.venue);
    const tick = await h.source.fetchTick('BTCUSDT', c.venue);
    expect(tick.markPrice).toBeCloseTo(c.tick.markPrice, 6);
    expect(tick.fundingRate).toBeCloseTo(c.tick.fundingRate, 9);
    expect(tick.ts).toBe(NOW);
    expect(tick.orderBook?.bids[0]?.price).toBeCloseTo(c.tick.bestBid.price, 6);
    expect(tick.orderBook?.bids[0]?.size).toBeCloseTo(c.tick.bestBid.size, 9);
    expect(tick.orderBook?.asks[0]?.price).toBeCloseTo(c.tick.bestAsk.price, 6);
    expect(tick.orderBook?.asks[0]?.size).toBeCloseTo(c.tick.bestAsk.size, 9);
    const bids = tick.orderBook?.bids.map((l) => l.price) ?? [];
    expect(bids).toEqual([...bids].sort((a, b) => b - a));
    expect(h.venue.count(c.endpoints.book)).toBe(1);
    expect(h.venue.count(c.endpoints.mark)).toBe(1);
  });

  it('when a tick is fetched, then it carries the venue\'s trading rules from ccxt\'s parsed market, in base units', async () => {
    const h = await harness(c.venue);
    const tick = await h.source.fetchTick('BTCUSDT', c.venue);
    expect(tick.spec).toEqual(c.spec);
    expect(h.venue.count(c.endpoints.markets)).toBe(c.marketsCalls);
  });

  it('when the venue answers 429 once, then the call is retried after a backoff and succeeds', async () => {
    const h = await harness(c.venue);
    h.venue.script(c.endpoints.ohlcv, c.rateLimited);
    const bars = await h.source.fetchBars('BTCUSDT', c.venue, T0 - FIVE_MIN);
    expectBarsClose(bars, c.bars);
    expect(h.venue.count(c.endpoints.ohlcv)).toBe(2);
    expect(h.sleeps).toHaveLength(1);
    expect(h.sleeps[0]).toBeGreaterThan(0);
  });

  it('when the venue keeps answering 5xx, then a TransientMarketError follows three attempts with growing backoff', async () => {
    const h = await harness(c.venue);
    h.venue.script(c.endpoints.book, c.unavailable, c.unavailable, c.unavailable);
    const err = await h.source.fetchTick('BTCUSDT', c.venue).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientMarketError);
    expect((err as TransientMarketError).venue).toBe(c.venue);
    expect(h.venue.count(c.endpoints.book)).toBe(3);
    const [first, second] = h.sleeps;
    expect(h.sleeps).toHaveLength(2);
    expect(second).toBeGreaterThan(first as number);
  });

  it('when the symbol is not listed on the venue, then UnknownSymbolError is thrown without any data request or retry', async () => {
    const h = await harness(c.venue, { symbols: ['BTCUSDT', 'NOPEUSDT'] });
    await expect(h.source.fetchBars('NOPEUSDT', c.venue, undefined)).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(h.source.fetchTick('NOPEUSDT', c.venue)).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(h.venue.requests.map((u) => u.pathname.split('/').pop())).toEqual(
      Array.from({ length: c.marketsCalls }, () => c.endpoints.markets),
    );
    expect(h.sleeps).toEqual([]);
  });
});

describe('ccxt source: trading rules', () => {
  it('when the three venues\' rules are merged, then the strictest wins field by field', async () => {
    const specs = await Promise.all(CASES.map(async (c) => (await (await harness(c.venue)).source.fetchTick('BTCUSDT', c.venue)).spec));
    expect(mergeSpecs(specs)).toEqual({ tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: 100 });
  });

  const market = (precision: { price?: number; amount?: number }, contractSize = 1) =>
    ({ precision, contractSize, limits: { amount: { min: 2, max: 50 }, cost: { min: 5 }, leverage: { max: 20 } }, info: {} }) as unknown as Parameters<
      typeof specFromMarket
    >[1];
  const modes = { TICK_SIZE: 4, DECIMAL_PLACES: 2 };

  it('when the exchange counts precision in decimal places, then 2 decimals is a tick of 0.01 and 0 decimals a step of one contract', () => {
    const spec = specFromMarket(binanceusdm, market({ price: 2, amount: 0 }, 0.1), modes.DECIMAL_PLACES, modes);
    expect(spec).toEqual({ tickSize: 0.01, quantityStep: 0.1, minQuantity: 0.2, maxQuantity: 5, minNotionalUsd: 5, maxLeverage: 20 });
  });

  it('when the exchange counts significant digits, then tick and step are unknown (null) rather than guessed', () => {
    const spec = specFromMarket(binanceusdm, market({ price: 5, amount: 3 }), 3, modes);
    expect(spec.tickSize).toBeNull();
    expect(spec.quantityStep).toBeNull();
    expect(spec.minQuantity).toBe(2);
  });
});

describe('ccxt source: venue specifics and error mapping', () => {
  it('when Binance rejects the symbol (-1121), then UnknownSymbolError is thrown after one request', async () => {
    const h = await harness('binanceusdm');
    h.venue.script('depth', { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
    await expect(h.source.fetchTick('BTCUSDT', 'binanceusdm')).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(h.venue.count('depth')).toBe(1);
    expect(h.sleeps).toEqual([]);
  });

  it('when OKX says the instrument does not exist (51001), then UnknownSymbolError is thrown without retry', async () => {
    const h = await harness('okx');
    h.venue.script('history-candles', { status: 200, body: { code: '51001', msg: "Instrument ID doesn't exist.", data: [] } });
    await expect(h.source.fetchBars('BTCUSDT', 'okx', T0 - FIVE_MIN)).rejects.toBeInstanceOf(UnknownSymbolError);
    expect(h.venue.count('history-candles')).toBe(1);
  });

  it('when the venue sends Retry-After, then the backoff waits at least that long', async () => {
    const h = await harness('binanceusdm');
    h.venue.script('klines', { ...CASES[0]!.rateLimited, headers: { 'Retry-After': '2' } });
    await h.source.fetchBars('BTCUSDT', 'binanceusdm', T0 - FIVE_MIN);
    expect(h.sleeps).toEqual([2000]);
  });

  it('when Retry-After is longer than the source will wait, then it gives up at once and passes the hint on', async () => {
    const h = await harness('binanceusdm');
    h.venue.script('klines', { status: 418, body: { code: -1003, msg: 'Way too many requests; IP banned until 1767227000000.' }, headers: { 'Retry-After': '120' } });
    const err = await h.source.fetchBars('BTCUSDT', 'binanceusdm', T0 - FIVE_MIN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientMarketError);
    expect((err as TransientMarketError).retryAfterMs).toBe(120_000);
    expect(h.sleeps).toEqual([]);
  });

  it('when the long/short ratio keeps failing, then bars still go out, without that optional signal', async () => {
    const h = await harness('bybit');
    const down = CASES[1]!.unavailable;
    h.venue.script('account-ratio', down, down, down);
    const bars = await h.source.fetchBars('BTCUSDT', 'bybit', T0 - FIVE_MIN);
    expect(bars).toHaveLength(3);
    expect(bars.every((b) => b.longShortRatio === undefined)).toBe(true);
    expect(bars.every((b) => b.openInterestUsd > 0)).toBe(true);
    expect(h.venue.count('account-ratio')).toBe(3);
  });

  it('when the venue rejects the request itself (bad parameter), then the error surfaces unretried and untranslated', async () => {
    const h = await harness('binanceusdm');
    h.venue.script('klines', { status: 400, body: { code: -1100, msg: 'Illegal characters found in a parameter.' } });
    const err = await h.source.fetchBars('BTCUSDT', 'binanceusdm', T0 - FIVE_MIN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TransientMarketError);
    expect(err).not.toBeInstanceOf(UnknownSymbolError);
    expect(h.venue.count('klines')).toBe(1);
  });

  it('when loading markets fails transiently, then it is retried and the data call proceeds', async () => {
    const h = await harness('okx');
    h.venue.script('instruments', CASES[2]!.unavailable);
    const bars = await h.source.fetchBars('BTCUSDT', 'okx', T0 - FIVE_MIN);
    expect(bars).toHaveLength(3);
    expect(h.venue.count('instruments')).toBe(2);
  });

  it('when OI for the newest closed bar is not published yet, then that bar is held back for a later poll', async () => {
    const h = await harness('binanceusdm');
    const oiRows = [T0, T0 + FIVE_MIN, T0 + 2 * FIVE_MIN].map((ts, i) => ({
      symbol: 'BTCUSDT',
      sumOpenInterest: '80000',
      sumOpenInterestValue: String(7_600_000_000 + i),
      CMCCirculatingSupply: '1',
      timestamp: ts,
    }));
    h.venue.script('openInterestHist', { status: 200, body: oiRows });
    const bars = await h.source.fetchBars('BTCUSDT', 'binanceusdm', T0 - FIVE_MIN);
    expect(bars.map((b) => b.ts)).toEqual([T0, T0 + FIVE_MIN]);
    const later = await h.source.fetchBars('BTCUSDT', 'binanceusdm', T0 + FIVE_MIN);
    expect(later.map((b) => b.ts)).toEqual([T0 + 2 * FIVE_MIN]);
  });

  it('when polled for the first time, then OKX klines are walked in 100-bar windows over the 3-day lookback', async () => {
    const h = await harness('okx');
    const bars = await h.source.fetchBars('BTCUSDT', 'okx', undefined);
    expect(bars).toHaveLength(3);
    // 3 days of 5m bars up to the last closed one is 864 bars: 9 windows of 100.
    expect(h.venue.count('history-candles') + h.venue.count('candles')).toBe(9);
    // OI and funding are fetched only from the first bar the venue actually returned.
    expect(h.venue.count('open-interest-history')).toBe(1);
  });

  it('when Binance OI history is needed for 3 days, then it is requested in consecutive 500-row windows', async () => {
    const h = await harness('binanceusdm');
    // 864 klines covering the whole 3-day lookback, in Binance's raw array shape.
    const first = Math.floor((NOW - 3 * 86_400_000) / FIVE_MIN) * FIVE_MIN;
    const klines = Array.from({ length: 864 }, (_, i) => {
      const ts = first + i * FIVE_MIN;
      return [ts, '95000', '95100', '94900', '95050', '10', ts + FIVE_MIN - 1, '950000', 10, '5', '475000', '0'];
    });
    h.venue.script('klines', { status: 200, body: klines });
    await h.source.fetchBars('BTCUSDT', 'binanceusdm', undefined);
    const oiCalls = h.venue.requests.filter((u) => u.pathname.endsWith('openInterestHist'));
    expect(oiCalls.map((u) => Number(u.searchParams.get('startTime')))).toEqual([first, first + 500 * FIVE_MIN]);
    for (const u of oiCalls) expect(Number(u.searchParams.get('limit'))).toBe(500);
  });

  it('when the ccxt source is chosen through createMarketSource, then it serves the configured venues', async () => {
    const fake = buildFakeVenue('bybit');
    const source = await createMarketSource(
      { source: 'ccxt', symbols: ['BTCUSDT'], venues: ['bybit'], replayDir: undefined, barTimeframe: '5m', simBarIntervalMs: 3000, simSeed: 1 },
      { clock: () => NOW, logger: pino({ level: 'silent' }), fetchImplementation: fake.fetch, sleep: async () => {} },
    );
    try {
      expect(source.name).toBe('ccxt');
      expect(source.venues('BTCUSDT')).toEqual(['bybit']);
      expect(await source.fetchBars('BTCUSDT', 'bybit', T0 - FIVE_MIN)).toHaveLength(3);
    } finally {
      await source.close();
    }
  });
});

describe('ccxt source: venue clocks', () => {
  // Canned server times: Binance 1.5 s ahead of NOW, Bybit 0.4 s behind, OKX 30 ms ahead.
  it.each([
    { venue: 'binanceusdm', endpoint: '/fapi/v1/time', offsetMs: 1450 },
    { venue: 'bybit', endpoint: '/v5/market/time', offsetMs: -450 },
    { venue: 'okx', endpoint: '/api/v5/public/time', offsetMs: -20 },
  ])('when the clock of $venue is measured, then the offset is its server time minus the midpoint of our send and receive', async ({ venue, endpoint, offsetMs }) => {
    // Our clock reads NOW when the request leaves and NOW + 100 ms when the answer is back.
    const reads = [NOW, NOW + 100];
    const h = await harness(venue);
    const monitor = new VenueClockMonitor({
      venues: [venue],
      serverTime: (v) => h.source.serverTime(v),
      clock: () => reads.shift() ?? NOW + 100,
      logger: pino({ level: 'silent' }),
      toleranceMs: 1000,
      everyMs: 60_000,
    });
    await monitor.measure();
    expect(monitor.status()).toEqual([{ venue, offsetMs, roundTripMs: 100, measuredAt: NOW, lastError: null }]);
    expect(h.venue.requests.map((u) => u.pathname)).toEqual([endpoint]);
    expect(monitor.checks()[0]!.ok).toBe(Math.abs(offsetMs) <= 1000);
  });

  it('when the venue fails to answer the time, then the error is kept and the last good offset stays', async () => {
    const h = await harness('okx');
    const monitor = new VenueClockMonitor({
      venues: ['okx'],
      serverTime: (v) => h.source.serverTime(v),
      clock: () => NOW,
      logger: pino({ level: 'silent' }),
      toleranceMs: 1000,
      everyMs: 60_000,
    });
    await monitor.measure();
    h.venue.script('time', CASES[2]!.unavailable);
    await monitor.measure();
    const [s] = monitor.status();
    expect(s?.offsetMs).toBe(30);
    expect(s?.lastError).toMatch(/ExchangeNotAvailable|Service temporarily unavailable/);
  });
});

describe('ccxt source helpers', () => {
  it('when a service symbol is a USDT perpetual id, then it maps to the unified linear symbol', () => {
    expect(toUnifiedSymbol('BTCUSDT')).toBe('BTC/USDT:USDT');
    expect(toUnifiedSymbol('1000PEPEUSDT')).toBe('1000PEPE/USDT:USDT');
    expect(toUnifiedSymbol('BTCUSD')).toBeUndefined();
  });

  it('when OI has a hole in the middle, then that bar is skipped but later bars are kept', () => {
    const k = (ts: number) => ({ ts, open: 1, high: 1, low: 1, close: 1 });
    const bars = mergeBars(
      [k(0), k(300), k(600), k(900)],
      [
        { ts: 300, valueUsd: 10 },
        { ts: 1200, valueUsd: 12 },
      ],
      [],
      300,
      300,
      8,
    );
    expect(bars.map((b) => [b.ts, b.openInterestUsd])).toEqual([
      [0, 10],
      [900, 12],
    ]);
  });
});
