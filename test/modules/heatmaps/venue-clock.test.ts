import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { clockOffset, VenueClockMonitor } from '../../../src/modules/heatmaps/venue-clock.js';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { FakeMarketSource } from './fake-source.js';

/** A fake source whose venues' clocks run `offsets[venue]` ms from ours. */
function buildClockedSource(clock: () => number, offsets: Record<string, number>) {
  const source = new FakeMarketSource(clock, { venues: Object.keys(offsets) });
  return Object.assign(source, {
    allVenues: () => Object.keys(offsets),
    serverTime: async (venue: string) => clock() + (offsets[venue] ?? 0),
  });
}

describe('venue clock offset', () => {
  it('when the server time is read between send and receive, then the offset is measured from their midpoint', () => {
    expect(clockOffset(1_000, 2_600, 1_200)).toEqual({ offsetMs: 1_500, roundTripMs: 200 });
    expect(clockOffset(1_000, 900, 1_000)).toEqual({ offsetMs: -100, roundTripMs: 0 });
  });

  it('when one venue is further off than the tolerance, then only its check fails, naming the offset', async () => {
    const clock = manualClock();
    const source = buildClockedSource(clock, { binanceusdm: 40, okx: -7_000 });
    const monitor = new VenueClockMonitor({
      venues: source.allVenues(),
      serverTime: source.serverTime,
      clock,
      logger: createLogger('silent'),
      toleranceMs: 5_000,
      everyMs: 60_000,
    });
    expect(monitor.checks().every((c) => c.ok)).toBe(true);
    await monitor.measure();
    expect(monitor.checks()).toEqual([
      { name: 'venue-clock:binanceusdm', ok: true },
      { name: 'venue-clock:okx', ok: false, detail: 'clock offset -7000 ms (round trip 0 ms) exceeds 5000 ms' },
    ]);
  });
});

describe('venue clocks in the app', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('when a venue clock is off by more than a poll interval, then /health/status is degraded, /venues and the metric show the offset', async () => {
    const clock = manualClock();
    const source = buildClockedSource(clock, { binanceusdm: 250, bybit: -9_000 });
    t = await buildTestApp({ clock, marketSource: source, env: { SYMBOLS: 'BTCUSDT', POLL_INTERVAL_MS: '5000' } });
    await vi.waitFor(async () => {
      const status = await request(t!.app.server).get('/health/status');
      expect(status.body.degraded).toContain('venue-clock:bybit');
    });
    const status = await request(t.app.server).get('/health/status');
    expect(status.body.degraded).not.toContain('venue-clock:binanceusdm');
    const venues = await request(t.app.server).get('/venues').set(bearer(TEST_KEYS.read));
    expect(venues.status).toBe(200);
    expect(venues.body).toEqual({
      clockToleranceMs: 5_000,
      venues: [
        { venue: 'binanceusdm', clockOffsetMs: 250, roundTripMs: 0, measuredAt: new Date(clock()).toISOString(), lastError: null },
        { venue: 'bybit', clockOffsetMs: -9_000, roundTripMs: 0, measuredAt: new Date(clock()).toISOString(), lastError: null },
      ],
    });
    const metrics = await request(t.app.server).get('/metrics').set(bearer(TEST_KEYS.metrics));
    expect(metrics.text).toMatch(/^liqgate_venue_clock_offset_seconds\{venue="bybit"[^}]*\} -9$/m);
  });
});
