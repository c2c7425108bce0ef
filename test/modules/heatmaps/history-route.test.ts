import { afterEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { buildHeatmap, cascadeMoves, clusterAt } from '../../domain/pretrade/factories.js';
import { noTradeBufferFor } from '../../../src/domain/pretrade/facts.js';
import { policyFor } from '../../../src/config/policy.js';
import type { Confidence, ModelHealth } from '../../../src/domain/model-health/types.js';

const T0 = Date.UTC(2026, 10, 24, 11, 0);
const MIN = 60_000;
const bin = (price: number, longUsd: number, shortUsd = 0) => ({ price, longUsd, shortUsd, probability: 0 });

/** A map whose ladder holds `usd` of longs in one 10 bps bin at `price` (mark 100,000). */
const mapWith = (asOf: number, price: number, usd: number) =>
  buildSnapshot({ asOf, heatmap: buildHeatmap({ asOf, binBps: 10, bins: [bin(price, usd)], clusters: [clusterAt('long', 100), clusterAt('short', 300)] }) });

describe('GET /heatmap/:symbol/history (the page\'s time x price picture)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('when maps were kept over time, then each column shows its own map on the common grid, oldest first, and `current` is the map the gate uses', async () => {
    const clock = manualClock(T0);
    t = await buildTestApp({ clock, store: 'redis', env: { HISTORY_INTERVAL_MS: '60000', HEATMAP_MAX_AGE_MS: '120000' } });
    await t.publish(mapWith(T0, 99_050, 1_000_000)); // row 49 of 100 over 95,000..105,000
    const latest = await t.publish(mapWith(T0 + 2 * MIN, 101_050, 3_000_000)); // row 60
    clock.set(T0 + 3 * MIN);
    const res = await t.app.inject({
      method: 'GET',
      url: `/heatmap/BTCUSDT/history?from=${new Date(T0 - MIN).toISOString()}&to=${new Date(T0 + 3 * MIN).toISOString()}&columns=4&rows=100&rangePct=0.05`,
      headers: bearer(TEST_KEYS.read),
    });
    expect(res.statusCode).toBe(200);
    const h = res.json<{ columns: { asOf: string | null; stale: boolean }[]; longUsd: number[][]; maxCellUsd: number; priceLow: number; current: { clusters: unknown[]; bufferBps: { buy: number } } }>();
    expect(h.priceLow).toBe(95_000);
    expect(h.columns.map((c) => c.asOf)).toEqual([T0, T0, T0 + 2 * MIN, T0 + 2 * MIN].map((x) => new Date(x).toISOString()));
    expect(h.longUsd[0]![40]).toBeCloseTo(1_000_000, 3); // 99,050 ± 50 lies in row 40 (99,000..99,100)
    expect(h.longUsd[3]![60]).toBeCloseTo(3_000_000, 3);
    expect(h.longUsd[3]![40]).toBe(0);
    expect(h.maxCellUsd).toBeCloseTo(3_000_000, 3);
    expect(h.current.clusters).toEqual(latest.heatmap.clusters);
    expect(h.current.bufferBps.buy).toBeGreaterThan(0);
  });

  it('when the current map has a low confidence and an unknown model health, then `current` carries both, the policy\'s confidenceFullAt, and the buffers the gate widens for them', async () => {
    const clock = manualClock(T0);
    t = await buildTestApp({ clock, env: { HISTORY_INTERVAL_MS: '60000' } });
    const confidence: Confidence = { value: 0.47, unlocatedShare: 0.2, venueCoverage: 1, accuracy: 0.47 };
    const health: ModelHealth = { status: 'unknown', sweptMass: null, priceLevel: null, events: 3, periods: 2, windowMs: 3_600_000 };
    // A long-side cascade on the map: the buy buffer also widens by its share of the move.
    const heatmap = buildHeatmap({ asOf: T0, clusters: [clusterAt('long', 100), clusterAt('short', 300)], cascades: cascadeMoves({ long: 80 }) });
    await t.publish(buildSnapshot({ asOf: T0, heatmap, confidence, health }));
    const res = await t.app.inject({ method: 'GET', url: '/heatmap/BTCUSDT/history?columns=4', headers: bearer(TEST_KEYS.read) });
    expect(res.statusCode).toBe(200);
    const cur = res.json<{ current: { confidence: Confidence | null; confidenceFullAt: number; health: (ModelHealth & { healthy: boolean }) | null; bufferBps: { buy: number; sell: number } } }>().current;
    const policy = policyFor(t.config.policy, 'BTCUSDT').pretrade;
    expect(cur.confidence).toEqual(confidence);
    expect(cur.health).toEqual({ ...health, healthy: false });
    expect(cur.confidenceFullAt).toBe(policy.confidenceFullAt);
    expect(cur.bufferBps).toEqual({ buy: noTradeBufferFor(policy, heatmap, 'buy', T0, 0.47), sell: noTradeBufferFor(policy, heatmap, 'sell', T0, 0.47) });
    // Wider than the same map at full confidence, and the buy side wider still by its cascade.
    expect(cur.bufferBps.buy).toBeGreaterThan(noTradeBufferFor(policy, heatmap, 'buy', T0, 1));
    expect(cur.bufferBps.buy).toBeGreaterThan(cur.bufferBps.sell);
  });

  it('when the current map carries no confidence and no health (written before they existed), then both are null', async () => {
    const clock = manualClock(T0);
    t = await buildTestApp({ clock });
    const { confidence: _dropped, ...older } = mapWith(T0, 99_050, 1e6);
    await t.publish(older);
    const res = await t.app.inject({ method: 'GET', url: '/heatmap/BTCUSDT/history?columns=4', headers: bearer(TEST_KEYS.read) });
    const cur = res.json<{ current: { confidence: unknown; health: unknown } }>().current;
    expect(cur.confidence).toBeNull();
    expect(cur.health).toBeNull();
  });

  it('when the maps read carry realized liquidations, then the picture lists those between from and to once each, oldest first', async () => {
    const clock = manualClock(T0);
    t = await buildTestApp({ clock, store: 'redis', env: { HISTORY_INTERVAL_MS: '60000' } });
    const early = { ts: T0 - 30 * MIN, side: 'long' as const, price: 99_000, usd: 40_000, venue: 'okx' };
    const inside = { ts: T0 + MIN, side: 'short' as const, price: 101_000, usd: 7_000 };
    const later = { ts: T0 + 2 * MIN - 1, side: 'long' as const, price: 99_500, usd: 1_000, venue: 'bybit' };
    await t.publish({ ...mapWith(T0 + MIN, 99_050, 1e6), recentLiquidations: [inside, early] });
    await t.publish({ ...mapWith(T0 + 2 * MIN, 99_050, 1e6), recentLiquidations: [later, inside, early] });
    clock.set(T0 + 3 * MIN);
    const res = await t.app.inject({
      method: 'GET',
      url: `/heatmap/BTCUSDT/history?from=${new Date(T0 - MIN).toISOString()}&to=${new Date(T0 + 3 * MIN).toISOString()}&columns=4`,
      headers: bearer(TEST_KEYS.read),
    });
    expect(res.json<{ liquidations: unknown[] }>().liquidations).toEqual([
      { at: new Date(inside.ts).toISOString(), side: 'short', price: 101_000, usd: 7_000, venue: null },
      { at: new Date(later.ts).toISOString(), side: 'long', price: 99_500, usd: 1_000, venue: 'bybit' },
    ]);
  });

  it('when nothing is kept for the symbol, then 404; when from is after to, then 400 naming from; without a read key, 401', async () => {
    t = await buildTestApp();
    const get = (qs: string, key: string | null = TEST_KEYS.read) =>
      t!.app.inject({ method: 'GET', url: `/heatmap/BTCUSDT/history${qs}`, headers: key ? bearer(key) : {} });
    expect((await get('')).statusCode).toBe(404);
    const bad = await get(`?from=${new Date(T0).toISOString()}&to=${new Date(T0 - 1).toISOString()}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ details: { path: string }[] }>().details[0]!.path).toBe('querystring.from');
    expect((await get('', null)).statusCode).toBe(401);
    expect((await get('?columns=100000')).statusCode).toBe(400);
  });
});
