import { afterEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { buildSnapshot } from '../helpers/snapshots.js';
import { FakeMarketSource } from '../modules/heatmaps/fake-source.js';
import { sample } from '../helpers/observe.js';
import { waitUntil } from '../helpers/redis-server.js';

const order = (overrides: Record<string, unknown> = {}) => ({ symbol: 'BTCUSDT', side: 'buy', notional: 10_000, orderType: 'market', ...overrides });

describe('GET /metrics', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const scrape = async (app: TestApp['app']) => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(TEST_KEYS.metrics) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    return res.body;
  };

  it('when no key or a key without the metrics scope asks, then it is 401 or 403', async () => {
    t = await buildTestApp();
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer(TEST_KEYS.read) })).statusCode).toBe(403);
  });

  it('when orders are decided, then decisions by outcome and by reason code move by exactly those decisions', async () => {
    const clock = manualClock();
    t = await buildTestApp({ clock });
    await t.publish(buildSnapshot({ asOf: clock() }));
    const before = await scrape(t.app);
    expect(sample(before, 'liqgate_decisions_total', { decision: 'REJECT' }) ?? 0).toBe(0);

    const check = (body: object) => t!.app.inject({ method: 'POST', url: '/pretrade-check', headers: bearer(TEST_KEYS.pretrade), payload: body });
    expect((await check(order())).json<{ decision: string }>().decision).toBe('APPROVE');
    const unknown = await check(order({ symbol: 'DOGEUSDT' }));
    expect(unknown.json<{ reasons: { code: string }[] }>().reasons[0]?.code).toBe('UNKNOWN_SYMBOL');
    await check(order({ symbol: 'DOGEUSDT' }));

    const after = await scrape(t.app);
    expect(sample(after, 'liqgate_decisions_total', { decision: 'APPROVE' })).toBe(1);
    expect(sample(after, 'liqgate_decisions_total', { decision: 'REJECT' })).toBe(2);
    expect(sample(after, 'liqgate_decision_reasons_total', { code: 'UNKNOWN_SYMBOL', kind: 'reason' })).toBe(2);
    expect(sample(after, 'liqgate_decision_seconds_count')).toBe(3);
  });

  it('when a heatmap is held, then its age per symbol is exported, and the audit backlog and event-loop lag are there', async () => {
    const clock = manualClock();
    t = await buildTestApp({ clock });
    await t.publish(buildSnapshot({ asOf: clock() - 4_000 }));
    const text = await scrape(t.app);
    expect(sample(text, 'liqgate_heatmap_age_seconds', { symbol: 'BTCUSDT' })).toBe(4);
    expect(sample(text, 'liqgate_heatmap_age_seconds', { symbol: 'ETHUSDT' })).toBeUndefined();
    expect(sample(text, 'liqgate_audit_backlog')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'liqgate_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('when the polling replica publishes a map whose model health falls, then the health and confidence gauges follow it and /symbols says so', async () => {
    const clock = manualClock();
    t = await buildTestApp({ clock });
    const healthy = { status: 'healthy' as const, sweptMass: 0.71, priceLevel: 0.42, events: 120, periods: 72, windowMs: 72 * 3_600_000 };
    await t.publish(buildSnapshot({ asOf: clock(), health: healthy, confidence: { value: 0.92, unlocatedShare: 0.08, venueCoverage: 1, accuracy: 1 } }));
    const before = await scrape(t.app);
    expect(sample(before, 'liqgate_model_health_status', { symbol: 'BTCUSDT' })).toBe(2);
    expect(sample(before, 'liqgate_model_swept_mass_score', { symbol: 'BTCUSDT' })).toBe(0.71);
    expect(sample(before, 'liqgate_model_price_level_spearman', { symbol: 'BTCUSDT' })).toBe(0.42);
    expect(sample(before, 'liqgate_model_window_events', { symbol: 'BTCUSDT' })).toBe(120);
    expect(sample(before, 'liqgate_heatmap_confidence', { symbol: 'BTCUSDT' })).toBe(0.92);

    const degraded = { ...healthy, status: 'degraded' as const, priceLevel: 0.02 };
    await t.publish(buildSnapshot({ asOf: clock(), health: degraded, confidence: { value: 0.1, unlocatedShare: 0.08, venueCoverage: 1, accuracy: 0.1 } }));
    const after = await scrape(t.app);
    expect(sample(after, 'liqgate_model_health_status', { symbol: 'BTCUSDT' })).toBe(1);
    expect(sample(after, 'liqgate_model_price_level_spearman', { symbol: 'BTCUSDT' })).toBe(0.02);
    expect(sample(after, 'liqgate_heatmap_confidence', { symbol: 'BTCUSDT' })).toBe(0.1);
    expect(sample(after, 'liqgate_model_health_status', { symbol: 'ETHUSDT' })).toBeUndefined();

    const symbols = await t.app.inject({ method: 'GET', url: '/symbols', headers: bearer(TEST_KEYS.read) });
    const btc = symbols.json<{ symbols: { symbol: string; modelHealth: { healthy: boolean; status: string } | null; confidence: { value: number } | null }[] }>().symbols.find((s) => s.symbol === 'BTCUSDT');
    expect(btc?.modelHealth).toMatchObject({ status: 'degraded', healthy: false, priceLevel: 0.02 });
    expect(btc?.confidence?.value).toBe(0.1);
  });

  it('when the Redis store serves idempotent orders, then store round trips are counted per store and operation', async () => {
    const clock = manualClock();
    t = await buildTestApp({ store: 'redis', clock });
    await t.publish(buildSnapshot({ asOf: clock() }));
    for (const id of ['m-1', 'm-2', 'm-1']) {
      const res = await t.app.inject({ method: 'POST', url: '/pretrade-check', headers: bearer(TEST_KEYS.pretrade), payload: order({ clientOrderId: id }) });
      expect(res.statusCode).toBe(200);
    }
    const text = await scrape(t.app);
    expect(sample(text, 'liqgate_store_seconds_count', { store: 'idempotency', op: 'putIfAbsent' })).toBe(3);
    // The map was written beside the app (as another replica's poller would); this one read it on the announcement.
    expect(sample(text, 'liqgate_store_seconds_count', { store: 'heatmap', op: 'getLatest' })).toBeGreaterThanOrEqual(1);
    // The replay (m-1 again) is not a new decision.
    expect(sample(text, 'liqgate_decisions_total', { decision: 'APPROVE' })).toBe(2);
    expect(sample(text, 'liqgate_store_errors_total', { store: 'idempotency' })).toBeUndefined();
  });

  it('when the Redis store has no initialisation marker, then the degradation that holds every scope HALTED is exported', async () => {
    t = await buildTestApp({ store: 'redis', tradingStateInitialised: false });
    const text = await scrape(t.app);
    expect(sample(text, 'liqgate_trading_state_degraded', { reason: 'uninitialised' })).toBe(1);
    expect(sample(text, 'liqgate_trading_state_degraded', { reason: 'halt-file' })).toBe(0);
  });

  it('when replicas share a Redis, then the policy version each live replica runs is exported', async () => {
    t = await buildTestApp({ store: 'redis', env: { INSTANCE_ID: 'replica-x' } });
    await waitUntil(async () => sample(await scrape(t!.app), 'liqgate_policy_replica_info', { replica: 'replica-x' }) === 1, 5_000, 'the replica announced');
    const text = await scrape(t.app);
    expect(sample(text, 'liqgate_policy_replica_info', { replica: 'replica-x', version: t.config.policy.version })).toBe(1);
  });

  it('when the poller calls venues and one fails, then polls by venue and outcome and the breaker state are exported', async () => {
    const clock = manualClock(Date.now());
    const source = new FakeMarketSource(clock, { venues: ['binanceusdm', 'bybit'] });
    source.failing.set('bybit', new Error('venue down'));
    t = await buildTestApp({ clock, marketSource: source, env: { SYMBOLS: 'BTCUSDT', POLL_INTERVAL_MS: '1000' } });
    let text = '';
    await waitUntil(
      async () => {
        text = await scrape(t!.app);
        return (sample(text, 'liqgate_venue_polls_total', { venue: 'bybit', outcome: 'error' }) ?? 0) > 0;
      },
      10_000,
      'a failed bybit poll',
    );
    expect(sample(text, 'liqgate_venue_polls_total', { venue: 'binanceusdm', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'liqgate_venue_polls_total', { venue: 'bybit', outcome: 'error' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'liqgate_venue_breaker_state', { symbol: 'BTCUSDT', venue: 'binanceusdm' })).toBe(0);
  });
});
