import { afterEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { buildHeatmap, clusterAt } from '../../domain/pretrade/factories.js';

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
