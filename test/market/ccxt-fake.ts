import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createCcxtSource, type CcxtSourceOptions } from '../../src/market/ccxt-source.js';

/**
 * A fake venue for the ccxt source: ccxt's `fetchImplementation` answers from canned raw
 * responses in test/fixtures/ccxt/<venue>/<last path segment>.json, so ccxt's real
 * request building, parsing and error mapping all run offline. Tests can queue
 * scripted answers (429s, 5xx, venue error codes) per path segment ahead of the
 * canned one, and read back every request made.
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ccxt');

/** 2026-01-01T00:00:00Z: the canned responses' first bar. */
export const T0 = 1_767_225_600_000;
export const FIVE_MIN = 300_000;
/** The tests' clock: the fourth bar (T0+15m) is still open. */
export const NOW = T0 + 17 * 60_000 + 30_000;

export interface ScriptedAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FakeVenue {
  fetch: (url: string, init?: unknown) => Promise<Response>;
  /** Every request URL, in order. */
  requests: URL[];
  /** The clock's reading at each request (same order as `requests`). */
  at: number[];
  /** Queue answers for the next requests whose last path segment is `endpoint`. */
  script(endpoint: string, ...answers: ScriptedAnswer[]): void;
  /** How many requests hit `endpoint` (last path segment). */
  count(endpoint: string): number;
}

/** Answers for endpoints whose canned file depends on the query. */
function special(venue: string, url: URL, symbols: string[] = ['BTCUSDT']): unknown {
  // Bybit asks separately for pre-launch instruments; there are none.
  if (venue === 'bybit' && url.pathname.endsWith('instruments-info') && url.searchParams.get('status') === 'PreLaunch') {
    return { retCode: 0, retMsg: 'OK', result: { category: 'linear', list: [], nextPageCursor: '' }, retExtInfo: {}, time: NOW };
  }
  // Binance's premium index for every symbol (no symbol asked) is a list.
  if (venue === 'binanceusdm' && url.pathname.endsWith('premiumIndex') && !url.searchParams.has('symbol')) {
    const one = readFileSync(join(FIXTURES, venue, 'premiumIndex.json'), 'utf8');
    return symbols.map((s) => JSON.parse(one.replaceAll('BTC', s.replace(/USDT$/, ''))));
  }
  return undefined;
}

/** Where each venue lists its instruments and its bulk ticks: these answers are widened to every listed symbol. */
const LISTS: Record<string, Record<string, (body: Record<string, unknown>) => unknown[]>> = {
  binanceusdm: { exchangeInfo: (b) => b['symbols'] as unknown[] },
  bybit: { 'instruments-info': (b) => (b['result'] as { list: unknown[] }).list, tickers: (b) => (b['result'] as { list: unknown[] }).list },
  okx: { instruments: (b) => b['data'] as unknown[], 'funding-rate': (b) => b['data'] as unknown[], 'mark-price': (b) => b['data'] as unknown[] },
};

/** The canned BTC entry of a list, copied once per symbol (`ETHUSDT` → every `BTC` in it becomes `ETH`). */
function widen(venue: string, file: string, text: string, symbols: string[]): string {
  const pick = LISTS[venue]?.[file];
  if (!pick) return text;
  const body = JSON.parse(text) as Record<string, unknown>;
  const list = pick(body);
  const btc = JSON.stringify(list.find((x) => JSON.stringify(x).includes('BTC')));
  list.splice(0, list.length, ...symbols.map((s) => JSON.parse(btc.replaceAll('BTC', s.replace(/USDT$/, '')))));
  return JSON.stringify(body);
}

/** `listed`: the symbols the venue lists (default: its canned list, BTC). */
export function buildFakeVenue(venue: string, opts: { listed?: string[]; clock?: () => number } = {}): FakeVenue {
  const requests: URL[] = [];
  const at: number[] = [];
  const queues = new Map<string, ScriptedAnswer[]>();
  const segment = (u: URL): string => u.pathname.split('/').pop() ?? '';
  const respond = (a: ScriptedAnswer): Response =>
    new Response(typeof a.body === 'string' ? a.body : JSON.stringify(a.body), {
      status: a.status,
      headers: { 'content-type': 'application/json', ...a.headers },
    });
  return {
    requests,
    at,
    async fetch(url: string): Promise<Response> {
      const u = new URL(url);
      requests.push(u);
      at.push(opts.clock?.() ?? NOW);
      const seg = segment(u);
      // OKX serves recent and older candles from two paths with one shape.
      const file = seg === 'history-candles' ? 'candles' : seg;
      const queued = queues.get(seg)?.shift();
      if (queued) return respond(queued);
      const sp = special(venue, u, opts.listed);
      if (sp !== undefined) return respond({ status: 200, body: sp });
      try {
        const text = readFileSync(join(FIXTURES, venue, `${file}.json`), 'utf8');
        return respond({ status: 200, body: opts.listed ? widen(venue, file, text, opts.listed) : text });
      } catch {
        return respond({ status: 404, body: { error: `no canned answer for ${u.pathname}` } });
      }
    },
    script(endpoint, ...answers) {
      queues.set(endpoint, [...(queues.get(endpoint) ?? []), ...answers]);
    },
    count(endpoint) {
      return requests.filter((u) => segment(u) === endpoint).length;
    },
  };
}

export interface CcxtHarness {
  venue: FakeVenue;
  sleeps: number[];
  source: Awaited<ReturnType<typeof createCcxtSource>>;
}

/** A ccxt source on one fake venue, with a fixed clock and recorded (instant) sleeps. */
export async function buildCcxtHarness(
  venue: string,
  overrides: { symbols?: string[]; listed?: string[]; clock?: () => number; sleep?: (ms: number) => Promise<void>; options?: CcxtSourceOptions; pollIntervalMs?: number } = {},
): Promise<CcxtHarness> {
  const fake = buildFakeVenue(venue, { ...(overrides.listed ? { listed: overrides.listed } : {}), ...(overrides.clock ? { clock: overrides.clock } : {}) });
  const sleeps: number[] = [];
  const source = await createCcxtSource(
    { symbols: overrides.symbols ?? ['BTCUSDT'], venues: [venue], timeframe: '5m', ...(overrides.pollIntervalMs ? { pollIntervalMs: overrides.pollIntervalMs } : {}) },
    {
      clock: overrides.clock ?? (() => NOW),
      logger: pino({ level: 'silent' }),
      sleep:
        overrides.sleep ??
        (async (ms) => {
          sleeps.push(ms);
        }),
      random: () => 0.5,
      fetchImplementation: fake.fetch,
    },
    { enableRateLimit: false, ...overrides.options },
  );
  return { venue: fake, sleeps, source };
}
