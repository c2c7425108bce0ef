import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VENUE_PROFILES } from '../../src/market/venues/index.js';
import { closeRun, manySymbols, peakInWindow, simulateVenue, type SimRun } from './many-symbols-sim.js';

// 100 symbols on each venue, polled every 5 s for 10 simulated minutes on canned venue
// answers. Each venue runs on its own simulated clock, moved only by the request
// budget's waits and by the poll cadence, so the requests' timestamps are what the venue
// would see. Every window of every published limit is then summed from the requests
// the fake venue actually received.

const SYMBOLS = manySymbols(100);
const POLL_MS = 5_000;
const MINUTES = 10;

const runs = new Map<string, SimRun>();

beforeAll(async () => {
  for (const venue of Object.keys(VENUE_PROFILES)) runs.set(venue, await simulateVenue(venue, { symbols: SYMBOLS, pollMs: POLL_MS, minutes: MINUTES }));
}, 240_000);

afterAll(async () => {
  for (const r of runs.values()) await closeRun(r);
});

describe.each(Object.keys(VENUE_PROFILES))('100 symbols on %s for 10 simulated minutes', (venue) => {
  it('when every request the venue received is summed over each published limit\'s window, then no window exceeds the limit', () => {
    const { h } = runs.get(venue)!;
    const profile = VENUE_PROFILES[venue]!;
    const costs = h.venue.requests.map((u) => profile.requestCost(u));
    for (const [name, limit] of Object.entries(profile.requestLimits)) {
      const peak = peakInWindow(h.venue.at, costs.map((c) => c[name] ?? 0), limit.windowMs);
      expect(peak, `${venue} ${name}: peak ${peak} per ${limit.windowMs} ms`).toBeLessThanOrEqual(limit.limit);
    }
  });

  it('when the ticks are polled, then marks and funding come from bulk calls, not one request per symbol', () => {
    const { h, ticks, cycles } = runs.get(venue)!;
    expect(ticks).toBe(SYMBOLS.length * cycles);
    const perSymbolTick = h.venue.requests.filter((u) => u.searchParams.has('symbol') && /premiumIndex|tickers/.test(u.pathname));
    const okxPerSymbol = h.venue.requests.filter((u) => /funding-rate$|mark-price$/.test(u.pathname) && u.searchParams.get('instId') !== 'ANY' && u.searchParams.has('instId'));
    expect([...perSymbolTick, ...okxPerSymbol]).toEqual([]);
  });

  it('when the budget forced history to wait, then every symbol still got its history within the run', () => {
    const { barsBySymbol } = runs.get(venue)!;
    expect(SYMBOLS.filter((s) => (barsBySymbol.get(s) ?? 0) === 0)).toEqual([]);
  });

  it('when 100 books would not fit the budget by REST, then they come over the websocket (one subscription, no book polling), else by REST', () => {
    const { h, ws, ticksWithBook, ticks } = runs.get(venue)!;
    const byStream = h.source.budgets()[0]!.booksByStream;
    expect(byStream).toBe(venue !== 'bybit');
    const restBooks = h.venue.requests.filter((u) => /\/(depth|orderbook|books)$/.test(u.pathname)).length;
    if (byStream) {
      // The replay sends each symbol's recorded frames once, so the book is there at first
      // and then (rightly) too old to use: a silent stream is a stale book.
      expect(new Set(ws!.subscribed).size).toBe(SYMBOLS.length);
      expect(ticksWithBook).toBeGreaterThanOrEqual(SYMBOLS.length);
      // Binance: one REST snapshot per subscription; OKX: none.
      expect(restBooks).toBe(venue === 'binanceusdm' ? SYMBOLS.length : 0);
    } else {
      expect(ticksWithBook).toBe(ticks);
      expect(restBooks).toBe(ticks);
    }
  });
});
