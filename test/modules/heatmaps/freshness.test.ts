import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../helpers/config.js';
import { barFreshness } from '../../../src/modules/heatmaps/index.js';
import { TEST_API_KEYS } from '../../helpers/app.js';

const market = (env: Record<string, string>) => configFromEnv({ NODE_ENV: 'test', API_KEYS: TEST_API_KEYS, ...env }).market;

describe('bar freshness limits', () => {
  it('when BAR_MAX_AGE_MS is not set, then sim allows 3 sim bars plus a poll interval', () => {
    expect(barFreshness(market({ MARKET_SOURCE: 'sim', SIM_BAR_INTERVAL_MS: '3000', POLL_INTERVAL_MS: '5000' }))).toEqual({ barMs: 3_000, barMaxAgeMs: 14_000 });
  });

  it('when the source is ccxt, then the bar is BAR_TIMEFRAME, and 1m bars get the 5m open-interest period', () => {
    expect(barFreshness(market({ MARKET_SOURCE: 'ccxt', BAR_TIMEFRAME: '15m', POLL_INTERVAL_MS: '5000' }))).toEqual({ barMs: 900_000, barMaxAgeMs: 2_705_000 });
    expect(barFreshness(market({ MARKET_SOURCE: 'ccxt', BAR_TIMEFRAME: '1m', POLL_INTERVAL_MS: '5000' }))).toEqual({ barMs: 60_000, barMaxAgeMs: 905_000 });
  });

  it('when BAR_MAX_AGE_MS is set, then it wins', () => {
    expect(barFreshness(market({ MARKET_SOURCE: 'ccxt', BAR_TIMEFRAME: '5m', BAR_MAX_AGE_MS: '600000' })).barMaxAgeMs).toBe(600_000);
  });

  it('when the source is replay, then bars never go stale and their length is inferred', () => {
    expect(barFreshness(market({ MARKET_SOURCE: 'replay', REPLAY_DIR: '/nonexistent' }))).toEqual({ barMs: undefined, barMaxAgeMs: Number.POSITIVE_INFINITY });
  });
});
