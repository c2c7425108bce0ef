import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { servedVersion, statusChecks } from '../../helpers/observe.js';
import { waitUntil } from '../../helpers/redis-server.js';
import { buildModelSnapshot, T0 } from './factories.js';
import { BAR_MS, FakeMarketSource } from './fake-source.js';

const read = bearer(TEST_KEYS.read);

interface HeatmapBody {
  symbol: string;
  version: number;
  asOf: string;
  ageMs: number;
  stale: boolean;
  binBps: number;
  rangePct: number;
  markPrice: number;
  ladder: { price: number; longUsd: number; shortUsd: number; probability: number }[];
  clusters: { side: string; major: boolean; priceLow: number; priceHigh: number }[];
  riskScore: number;
  crowding: { side: string };
  source: string;
  venues: string[];
}

describe('GET /heatmap/:symbol', () => {
  let t: TestApp;
  const clock = manualClock(T0);
  beforeEach(async () => {
    clock.set(T0);
    t = await buildTestApp({ clock });
  });
  afterEach(async () => {
    await t.close();
  });
  const get = (url: string, headers: Record<string, string> = read) => t.app.inject({ method: 'GET', url, headers });

  it('when the map carries realized liquidations, then they are listed newest first with ISO times; a map without them lists none', async () => {
    await t.publish(buildModelSnapshot({ asOf: T0 - 2_000 }));
    expect((await get('/heatmap/BTCUSDT')).json<{ recentLiquidations: unknown[] }>().recentLiquidations).toEqual([]);
    const recentLiquidations = [
      { ts: T0 - 5_000, side: 'short' as const, price: 101_000, usd: 80_000, venue: 'okx' },
      { ts: T0 - 65_000, side: 'long' as const, price: 99_100, usd: 1_250 },
    ];
    await t.publish(buildModelSnapshot({ asOf: T0 - 1_000, recentLiquidations }));
    const body = (await get('/heatmap/BTCUSDT')).json<{ recentLiquidations: unknown[] }>();
    expect(body.recentLiquidations).toEqual([
      { at: new Date(T0 - 5_000).toISOString(), atMs: T0 - 5_000, side: 'short', price: 101_000, usd: 80_000, venue: 'okx' },
      { at: new Date(T0 - 65_000).toISOString(), atMs: T0 - 65_000, side: 'long', price: 99_100, usd: 1_250, venue: null },
    ]);
  });

  it('when a heatmap is published, then it is served with its ladder, clusters, crowding, risk and age', async () => {
    const snap = buildModelSnapshot({ asOf: T0 - 2_000 });
    await t.publish(snap);
    const res = await get('/heatmap/BTCUSDT');
    expect(res.statusCode).toBe(200);
    const body = res.json<HeatmapBody>();
    expect(body).toMatchObject({
      symbol: 'BTCUSDT',
      source: 'sim',
      venues: ['binanceusdm'],
      version: 1,
      asOf: new Date(T0 - 2_000).toISOString(),
      ageMs: 2_000,
      stale: false,
      binBps: snap.heatmap.binBps,
      markPrice: snap.heatmap.markPrice,
      riskScore: snap.heatmap.risk.score,
    });
    expect(body.ladder).toHaveLength(snap.heatmap.bins.length);
    expect(body.ladder[0]).toEqual(snap.heatmap.bins[0]);
    expect(body.clusters.length).toBe(snap.heatmap.clusters.length);
    expect(body.clusters.length).toBeGreaterThan(0);
    expect(body.crowding.side).toBe(snap.heatmap.crowding.side);
  });

  it('when older than the maximum age, then it is still served, marked stale', async () => {
    await t.publish(buildModelSnapshot({ asOf: T0 }));
    clock.advance(t.config.market.heatmapMaxAgeMs + 1);
    expect((await get('/heatmap/BTCUSDT')).json<HeatmapBody>()).toMatchObject({ stale: true, ageMs: t.config.market.heatmapMaxAgeMs + 1 });
  });

  it('when asked with a lower-case symbol, then it answers for the upper-case one', async () => {
    await t.publish(buildModelSnapshot());
    expect((await get('/heatmap/btcusdt')).json<HeatmapBody>().symbol).toBe('BTCUSDT');
  });

  it('when the symbol is not configured, then 404 UNKNOWN_SYMBOL names the known ones', async () => {
    const res = await get('/heatmap/DOGEUSDT');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'UNKNOWN_SYMBOL' });
    expect(res.json<{ message: string }>().message).toMatch(/BTCUSDT, ETHUSDT/);
  });

  it('when no heatmap exists yet, then 503 HEATMAP_NOT_READY', async () => {
    const res = await get('/heatmap/ETHUSDT');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'HEATMAP_NOT_READY' });
  });

  it('when called without a key, then 401; with a key lacking the read scope, then 403', async () => {
    await t.publish(buildModelSnapshot());
    expect((await get('/heatmap/BTCUSDT', {})).statusCode).toBe(401);
    expect((await get('/heatmap/BTCUSDT', bearer(TEST_KEYS.pretrade))).statusCode).toBe(403);
    expect((await get('/symbols', bearer(TEST_KEYS.pretrade))).statusCode).toBe(403);
  });

  it('when asked for coarser bins and a narrower range, then the ladder is re-binned and notional is conserved', async () => {
    const snap = buildModelSnapshot();
    await t.publish(snap);
    const body = (await get('/heatmap/BTCUSDT?binBps=50&rangePct=0.05')).json<HeatmapBody>();
    expect(body.binBps).toBe(50);
    expect(body.rangePct).toBe(0.05);
    expect(body.ladder.length).toBeLessThan(snap.heatmap.bins.length / 5 + 3);
    const lo = body.ladder[0]!.price;
    const hi = body.ladder[body.ladder.length - 1]!.price;
    expect(hi).toBeLessThan(snap.heatmap.markPrice * 1.06);
    expect(lo).toBeGreaterThan(snap.heatmap.markPrice * 0.94);
    const total = (xs: { longUsd: number; shortUsd: number }[]) => xs.reduce((s, b) => s + b.longUsd + b.shortUsd, 0);
    const within = snap.heatmap.bins.filter((b) => b.price >= body.ladder[0]!.price - 25e-4 * body.markPrice && b.price < hi + 25e-4 * body.markPrice);
    expect(total(body.ladder)).toBeCloseTo(total(within), -3);
    expect(body.ladder.reduce((s, b) => s + b.probability, 0)).toBeCloseTo(1, 6);
  });

  it('when a view is asked at another bin width or range, then it shows the same clusters, major flags and risk score as the map the gate decides with', async () => {
    const gateSees = (await t.publish(buildModelSnapshot())).heatmap;
    expect(gateSees.clusters.some((c) => c.major)).toBe(true);
    const stored = (await get('/heatmap/BTCUSDT')).json<HeatmapBody & { riskInputs: unknown }>();
    for (const qs of ['?binBps=50', '?rangePct=0.02', '?binBps=100&rangePct=0.05']) {
      const view = (await get(`/heatmap/BTCUSDT${qs}`)).json<HeatmapBody & { riskInputs: unknown }>();
      expect(view.ladder.length).not.toBe(stored.ladder.length);
      expect(view.clusters).toEqual(gateSees.clusters);
      expect(view.clusters).toEqual(stored.clusters);
      expect(view.riskScore).toBe(gateSees.risk.score);
      expect(view.riskInputs).toEqual(gateSees.risk.inputs);
    }
  });

  it('when a map is served, then its volatility, funding regime and the venues\' trading rules come with it; older maps answer null', async () => {
    const spec = { tickSize: 0.1, quantityStep: 0.001, minQuantity: 0.001, maxQuantity: 120, minNotionalUsd: 100, maxLeverage: null };
    const snap = buildModelSnapshot({ spec });
    await t.publish(snap);
    const body = (await get('/heatmap/BTCUSDT?binBps=20')).json<Record<string, unknown>>();
    expect(body.volatility).toEqual(snap.heatmap.volatility);
    expect(body.funding).toEqual(snap.heatmap.funding);
    expect(body.spec).toEqual(spec);
    const { volatility: _v, funding: _f, ...oldHeatmap } = snap.heatmap;
    await t.publish({ ...buildModelSnapshot({ asOf: T0 + 1_000 }), heatmap: oldHeatmap });
    const old = (await get('/heatmap/BTCUSDT')).json<Record<string, unknown>>();
    expect(old).toMatchObject({ volatility: null, funding: null, spec: null });
  });

  it.each([
    ['rangePct wider than stored', '?rangePct=0.3', 'querystring.rangePct'],
    ['bins finer than stored', '?binBps=5', 'querystring.binBps'],
    ['non-numeric bins', '?binBps=wide', 'querystring.binBps'],
    ['bins beyond 500 bps', '?binBps=501', 'querystring.binBps'],
    ['zero range', '?rangePct=0', 'querystring.rangePct'],
    ['a malformed time', '?at=yesterday', 'querystring.at'],
    ['an unknown parameter', '?zoom=2', 'querystring'],
  ])('when asked with %s, then 400 naming the parameter', async (_label, qs, path) => {
    await t.publish(buildModelSnapshot());
    const res = await get(`/heatmap/BTCUSDT${qs}`);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ details: { path: string }[] }>().details.map((d) => d.path)).toContain(path);
  });

  it('when the client sends the ETag it has, then 304; after a new version, then 200 with a new ETag', async () => {
    await t.publish(buildModelSnapshot());
    const first = await get('/heatmap/BTCUSDT');
    const etag = first.headers.etag as string;
    expect(etag).toBe(`W/"BTCUSDT-1-0.15-10"`);
    const again = await get('/heatmap/BTCUSDT', { ...read, 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await get('/heatmap/BTCUSDT?binBps=20', { ...read, 'if-none-match': etag });
    expect(other.statusCode).toBe(200);
    await t.publish(buildModelSnapshot({ asOf: T0 + 5_000 }));
    const next = await get('/heatmap/BTCUSDT', { ...read, 'if-none-match': etag });
    expect(next.statusCode).toBe(200);
    expect(next.headers.etag).toBe(`W/"BTCUSDT-2-0.15-10"`);
  });

  it('when asked `at` a past time, then the heatmap of that time is answered from history', async () => {
    for (let i = 0; i < 3; i++) await t.publish(buildModelSnapshot({ asOf: T0 + i * 60_000 }));
    const at = new Date(T0 + 90_000).toISOString();
    const res = await get(`/heatmap/BTCUSDT?at=${encodeURIComponent(at)}&binBps=20`);
    expect(res.statusCode).toBe(200);
    expect(res.json<HeatmapBody>()).toMatchObject({ version: 2, asOf: new Date(T0 + 60_000).toISOString(), binBps: 20 });
  });

  it('when the snapshot carries the age of its data, then dataAsOf and dataAgeMs are served next to asOf', async () => {
    await t.publish({ ...buildModelSnapshot({ asOf: T0 - 2_000 }), dataAsOf: T0 - 62_000 } as ReturnType<typeof buildModelSnapshot>);
    const body = (await get('/heatmap/BTCUSDT')).json<HeatmapBody & { dataAsOf?: string; dataAsOfMs?: number; dataAgeMs?: number }>();
    expect(body).toMatchObject({ ageMs: 2_000, dataAsOf: new Date(T0 - 62_000).toISOString(), dataAsOfMs: T0 - 62_000, dataAgeMs: 62_000, stale: false });
    const old = await get(`/heatmap/BTCUSDT?at=${encodeURIComponent(new Date(T0).toISOString())}`);
    expect(old.json()).toMatchObject({ dataAgeMs: 62_000 });
  });

  it('when a snapshot has no data age (written before it existed), then the data fields are absent', async () => {
    await t.publish(buildModelSnapshot({ asOf: T0 }));
    const body = (await get('/heatmap/BTCUSDT')).json<Record<string, unknown>>();
    expect(body).not.toHaveProperty('dataAsOf');
    expect(body).not.toHaveProperty('dataAgeMs');
  });

  it('when asked `at` a time older than the history, then 404 NO_HISTORY', async () => {
    await t.publish(buildModelSnapshot({ asOf: T0 }));
    const res = await get(`/heatmap/BTCUSDT?at=${encodeURIComponent(new Date(T0 - 1).toISOString())}`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'NO_HISTORY' });
  });
});

describe('GET /heatmap/:symbol?at= with the store down', () => {
  it('when Redis does not answer, then 503 STORE_UNAVAILABLE, not 500', async () => {
    const clock = manualClock(T0);
    const t = await buildTestApp({ clock, store: 'redis' });
    try {
      await t.publish(buildModelSnapshot({ asOf: T0 }));
      t.redis!.disconnect();
      const res = await t.app.inject({ method: 'GET', url: `/heatmap/BTCUSDT?at=${encodeURIComponent(new Date(T0).toISOString())}`, headers: read });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'STORE_UNAVAILABLE', message: expect.stringMatching(/history is unavailable/) });
      // The latest map is still served from memory.
      expect((await t.app.inject({ method: 'GET', url: '/heatmap/BTCUSDT', headers: read })).statusCode).toBe(200);
    } finally {
      if (t.redis!.status === 'end') await t.redis!.connect();
      await t.close();
    }
  });
});

describe('GET /symbols and readiness without a poller', () => {
  it('reports per symbol version, age and staleness; readiness fails for a symbol with no fresh heatmap', async () => {
    const clock = manualClock(T0);
    const t = await buildTestApp({ clock });
    try {
      await t.publish(buildModelSnapshot({ asOf: T0 - 1_000 }));
      const res = await t.app.inject({ method: 'GET', url: '/symbols', headers: read });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ instanceId: string; symbols: Record<string, unknown>[] }>();
      expect(body.instanceId).toBe(t.config.instanceId);
      expect(body.symbols[0]).toMatchObject({ symbol: 'BTCUSDT', version: 1, ageMs: 1_000, stale: false, polling: false, leader: null });
      expect(body.symbols[1]).toMatchObject({ symbol: 'ETHUSDT', version: null, ageMs: null, stale: true });
      const heatmapChecks = async () => (await statusChecks(t.app)).filter((c) => c.name.startsWith('heatmap:'));
      const checks = await heatmapChecks();
      expect(checks).toEqual([
        { name: 'heatmap:BTCUSDT', ok: true },
        { name: 'heatmap:ETHUSDT', ok: false, detail: 'no heatmap yet' },
      ]);
      clock.advance(t.config.market.heatmapMaxAgeMs);
      expect((await heatmapChecks())[0]).toMatchObject({ ok: false, detail: expect.stringMatching(/^stale/) });
    } finally {
      await t.close();
    }
  });
});

describe('heatmap page', () => {
  it('is public, self-contained, carries no data and allows only its own nonce-tagged script', async () => {
    const t = await buildTestApp();
    try {
      await t.publish(buildModelSnapshot());
      const res = await t.app.inject({ method: 'GET', url: '/heatmap/BTCUSDT/view' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      const csp = String(res.headers['content-security-policy']);
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeDefined();
      expect(res.body).toContain(`<script nonce="${nonce}">`);
      expect(res.body).not.toMatch(/<script[^>]+src=|https?:\/\//);
      expect(res.body).not.toContain('ladder":');
      expect(res.body).toContain('sessionStorage');
      expect((await t.app.inject({ method: 'GET', url: '/heatmap/NOPEUSDT/view' })).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('with a market source', () => {
  it('when the app starts, then it polls every symbol, serves fresh heatmaps and reports itself as leader', async () => {
    const clock = manualClock(T0);
    const source = new FakeMarketSource(clock);
    // The fake source's bars are a minute long: said so, or its bars would look 57 s late.
    const t = await buildTestApp({ clock, marketSource: source, env: { SIM_BAR_INTERVAL_MS: String(BAR_MS) } });
    try {
      await waitUntil(async () => (await Promise.all(['BTCUSDT', 'ETHUSDT'].map((s) => servedVersion(t.app, s)))).every((v) => v !== null), 10_000, 'first heatmaps');
      const body = (await t.app.inject({ method: 'GET', url: '/symbols', headers: read })).json<{ symbols: Record<string, unknown>[] }>();
      for (const s of body.symbols) {
        expect(s).toMatchObject({ polling: true, leader: t.config.instanceId, stale: false, consecutiveFailures: 0, lastError: null });
        expect(s.venueStatus).toHaveLength(2);
      }
      expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
