import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CCXT_VENUES, VENUE_PROFILES, venueProfile } from '../../src/market/venues/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('venue profiles', () => {
  it('when the known venues are listed, then they are exactly the profiles, each under its own id', () => {
    expect(CCXT_VENUES).toEqual(['binanceusdm', 'bybit', 'okx']);
    for (const id of CCXT_VENUES) expect(VENUE_PROFILES[id]?.id).toBe(id);
    expect(venueProfile('kraken')).toBeUndefined();
    expect(venueProfile('toString')).toBeUndefined();
  });

  it('when the ccxt source and the poller are read, then no venue is named there: venue facts live in the profiles', () => {
    for (const file of ['src/market/ccxt-source.ts', 'src/modules/heatmaps/poller.ts', 'src/modules/heatmaps/snapshot-assembly.ts']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(text, file).not.toMatch(/['"](binanceusdm|bybit|okx)['"]/);
    }
  });

  it('when a profile prices a request, then every limit it charges is one the profile publishes', () => {
    const urls: Record<string, string[]> = {
      binanceusdm: ['https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT&limit=1000', 'https://fapi.binance.com/futures/data/openInterestHist?symbol=BTCUSDT', 'https://fapi.binance.com/fapi/v1/fundingRate'],
      bybit: ['https://api.bybit.com/v5/market/kline?category=linear'],
      okx: ['https://www.okx.com/api/v5/rubik/stat/contracts/open-interest-history', 'https://www.okx.com/api/v5/market/unknown-endpoint'],
    };
    for (const [id, list] of Object.entries(urls)) {
      const p = VENUE_PROFILES[id]!;
      for (const u of list) {
        const cost = p.requestCost(new URL(u));
        expect(Object.keys(cost).length, u).toBeGreaterThan(0);
        for (const limit of Object.keys(cost)) expect(p.requestLimits[limit], `${u} → ${limit}`).toBeDefined();
      }
    }
  });

  it('when Binance is asked for 1000 klines or an unfiltered premium index, then the published weights apply', () => {
    const b = VENUE_PROFILES['binanceusdm']!;
    expect(b.requestCost(new URL('https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT&limit=1000'))).toEqual({ weight: 5 });
    expect(b.requestCost(new URL('https://fapi.binance.com/fapi/v1/klines?symbol=BTCUSDT&limit=99'))).toEqual({ weight: 1 });
    expect(b.requestCost(new URL('https://fapi.binance.com/fapi/v1/premiumIndex'))).toEqual({ weight: 10 });
    expect(b.requestCost(new URL('https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT&limit=50'))).toEqual({ weight: 2 });
  });
});
