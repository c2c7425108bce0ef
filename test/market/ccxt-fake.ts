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
  /** Queue answers for the next requests whose last path segment is `endpoint`. */
  script(endpoint: string, ...answers: ScriptedAnswer[]): void;
  /** How many requests hit `endpoint` (last path segment). */
  count(endpoint: string): number;
}

/** Answers for endpoints whose canned file depends on the query. */
function special(venue: string, url: URL): unknown {
  // Bybit asks separately for pre-launch instruments; there are none.
  if (venue === 'bybit' && url.pathname.endsWith('instruments-info') && url.searchParams.get('status') === 'PreLaunch') {
    return { retCode: 0, retMsg: 'OK', result: { category: 'linear', list: [], nextPageCursor: '' }, retExtInfo: {}, time: NOW };
  }
  return undefined;
}

export function buildFakeVenue(venue: string): FakeVenue {
  const requests: URL[] = [];
  const queues = new Map<string, ScriptedAnswer[]>();
  const segment = (u: URL): string => u.pathname.split('/').pop() ?? '';
  const respond = (a: ScriptedAnswer): Response =>
    new Response(typeof a.body === 'string' ? a.body : JSON.stringify(a.body), {
      status: a.status,
      headers: { 'content-type': 'application/json', ...a.headers },
    });
  return {
    requests,
    async fetch(url: string): Promise<Response> {
      const u = new URL(url);
      requests.push(u);
      const seg = segment(u);
      // OKX serves recent and older candles from two paths with one shape.
      const file = seg === 'history-candles' ? 'candles' : seg;
      const queued = queues.get(seg)?.shift();
      if (queued) return respond(queued);
      const sp = special(venue, u);
      if (sp !== undefined) return respond({ status: 200, body: sp });
      try {
        return respond({ status: 200, body: readFileSync(join(FIXTURES, venue, `${file}.json`), 'utf8') });
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
  overrides: { symbols?: string[]; clock?: () => number; options?: CcxtSourceOptions } = {},
): Promise<CcxtHarness> {
  const fake = buildFakeVenue(venue);
  const sleeps: number[] = [];
  const source = await createCcxtSource(
    { symbols: overrides.symbols ?? ['BTCUSDT'], venues: [venue], timeframe: '5m' },
    {
      clock: overrides.clock ?? (() => NOW),
      logger: pino({ level: 'silent' }),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      fetchImplementation: fake.fetch,
    },
    { enableRateLimit: false, ...overrides.options },
  );
  return { venue: fake, sleeps, source };
}
