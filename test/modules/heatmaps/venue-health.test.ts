import { describe, expect, it } from 'vitest';
import { VenueHealth, type VenueHealthOptions } from '../../../src/modules/heatmaps/venue-health.js';
import { manualClock } from '../../helpers/app.js';

function buildHealth(overrides: Partial<VenueHealthOptions> = {}, random = () => 1) {
  const clock = manualClock();
  const h = new VenueHealth(
    'binanceusdm',
    { baseBackoffMs: 1_000, maxBackoffMs: 8_000, failureThreshold: 5, cooldownMs: 30_000, ...overrides },
    clock,
    random,
  );
  return { h, clock };
}

describe('venue health', () => {
  it('when a venue fails, then it waits an exponentially growing, capped delay before the next call', () => {
    const { h, clock } = buildHealth({ failureThreshold: 10 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      h.recordFailure('timeout');
      const retryAt = h.status().retryAt!;
      delays.push(retryAt - clock());
      expect(h.canAttempt()).toBe(false);
      clock.set(retryAt);
      expect(h.canAttempt()).toBe(true);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('when jitter draws low, then the delay is at least half the exponential step', () => {
    const { h, clock } = buildHealth({}, () => 0);
    h.recordFailure('timeout');
    h.recordFailure('timeout');
    expect(h.status().retryAt! - clock()).toBe(1_000);
  });

  it('when a venue asks for a retry-after longer than the backoff, then it is honoured', () => {
    const { h, clock } = buildHealth();
    h.recordFailure('rate limited', 20_000);
    expect(h.status().retryAt! - clock()).toBe(20_000);
  });

  it('when failures reach the threshold, then the breaker opens for the cool-down, then lets one trial through', () => {
    const { h, clock } = buildHealth({ failureThreshold: 3 });
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      h.canAttempt();
      h.recordFailure('down');
    }
    expect(h.breaker).toBe('open');
    clock.advance(29_999);
    expect(h.canAttempt()).toBe(false);
    clock.advance(1);
    expect(h.canAttempt()).toBe(true);
    expect(h.breaker).toBe('half_open');
  });

  it('when the half-open trial fails, then the breaker opens again; when it succeeds, it closes and resets', () => {
    const { h, clock } = buildHealth({ failureThreshold: 1 });
    h.recordFailure('down');
    clock.advance(30_000);
    h.canAttempt();
    h.recordFailure('still down');
    expect(h.breaker).toBe('open');
    expect(h.status().retryAt! - clock()).toBe(30_000);
    clock.advance(30_000);
    h.canAttempt();
    h.recordSuccess();
    expect(h.status()).toMatchObject({ state: 'closed', consecutiveFailures: 0, retryAt: null, lastSuccessAt: clock() });
  });

  it('when the venue does not list the symbol, then it is never called again', () => {
    const { h, clock } = buildHealth();
    h.markMisconfigured('symbol BTCUSDT is not listed on okx');
    clock.advance(86_400_000);
    expect(h.canAttempt()).toBe(false);
    h.recordSuccess();
    expect(h.status()).toMatchObject({ state: 'misconfigured', lastError: 'symbol BTCUSDT is not listed on okx' });
  });
});
