import { describe, expect, it } from 'vitest';
import { bearer, manualClock, TEST_KEYS } from '../../helpers/app.js';
import { appPerTest } from '../../helpers/suite.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { buildHeatmap, cascadeMoves, clusterAt, MARK } from '../../domain/pretrade/factories.js';
import type { PosttradeStore } from '../../../src/stores/posttrade-store.js';
import { auditWritten } from '../../helpers/observe.js';
import { watched } from '../../helpers/stores.js';

const START = Date.UTC(2026, 10, 24, 11, 30);
const WINDOW_MS = 60_000;

function fillBody(overrides: Record<string, unknown> = {}) {
  return { fillId: 'fill-1', symbol: 'BTCUSDT', side: 'sell', quantity: 1, price: MARK, executedAt: new Date(START).toISOString(), ...overrides };
}

describe.each(['memory', 'redis'] as const)('post-trade over HTTP (%s store)', (store) => {
  const buildApp = appPerTest();

  async function start() {
    const clock = manualClock(START);
    // The analyzer runs on its own timer; the store it uses shows when it has run.
    let fills!: ReturnType<typeof watched<PosttradeStore>>;
    const t = await buildApp({
      clock,
      store,
      env: { POSTTRADE_WINDOW_MS: String(WINDOW_MS), HEATMAP_MAX_AGE_MS: '600000' },
      stores: (built) => ({ posttrade: (fills = watched(built.posttrade)).store }),
    });
    const post = (body: object, key: string = TEST_KEYS.pretrade) => t.app.inject({ method: 'POST', url: '/fills', headers: bearer(key), payload: body });
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(TEST_KEYS.read) });
    /** Resolves once the analyzer has run a whole round that began after this call (each round asks the store what is due once). */
    const analyzerRan = () => fills.calls('due', 2);
    const analysisSaved = () => fills.calls('saveAnalysis');
    return { clock, post, get, app: t.app, publish: t.publish, analyzerRan, analysisSaved, fills: fills.store };
  }

  it('when a fill is sent, then it is accepted once; the same body again is a duplicate, another body a 409 naming fillId', async () => {
    const { post } = await start();
    const first = await post(fillBody());
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ fillId: 'fill-1', status: 'accepted', analysisDueAt: new Date(START + WINDOW_MS).toISOString(), flags: [] });
    expect((await post(fillBody())).json<{ status: string }>().status).toBe('duplicate');
    const conflict = await post(fillBody({ price: MARK + 1 }));
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json<{ error: string; details: { path: string }[] }>()).toMatchObject({ error: 'FILL_CONFLICT', details: [{ path: 'body.fillId' }] });
  });

  it('when a fill is malformed, for an unknown symbol or dated in the future, then it is a 400 naming the field', async () => {
    const { post } = await start();
    const cases: [object, string][] = [
      [fillBody({ quantity: -1 }), 'body.quantity'],
      [fillBody({ price: 1e300 }), 'body.price'],
      [fillBody({ symbol: 'DOGEUSDT' }), 'body.symbol'],
      [fillBody({ executedAt: new Date(START + 60_000).toISOString() }), 'body.executedAt'],
      [fillBody({ executedAt: 'yesterday' }), 'body.executedAt'],
      [fillBody({ extra: 1 }), 'body'],
    ];
    for (const [body, path] of cases) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json<{ details: { path: string }[] }>().details.map((x) => x.path).join(' ')).toContain(path);
    }
  });

  it('when a key without the pretrade scope sends a fill, or no key, then 403 or 401', async () => {
    const { post, app } = await start();
    expect((await post(fillBody(), TEST_KEYS.read)).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/fills', payload: fillBody() })).statusCode).toBe(401);
  });

  it('when an exit is followed by price trading through a major zone within the window, then its analysis (at fill + window) says cluster-affected, ties it to its decision, and the report counts it', async () => {
    const { clock, post, get, app, publish, analyzerRan, analysisSaved } = await start();
    const zone = clusterAt('long', 100); // 98,800..99,000
    const heatmap = (mark: number, at: number) => buildHeatmap({ asOf: at, markPrice: mark, clusters: [zone, clusterAt('short', 400)] });
    await publish(buildSnapshot({ asOf: START, heatmap: heatmap(MARK, START) }));
    const decided = await app.inject({
      method: 'POST',
      url: '/pretrade-check',
      headers: bearer(TEST_KEYS.pretrade),
      payload: { symbol: 'BTCUSDT', side: 'sell', quantity: 1, orderType: 'market', reduceOnly: true },
    });
    const decision = decided.json<{ decisionId: string; expectedSlippageBps: number }>();
    expect((await post(fillBody({ decisionId: decision.decisionId, price: MARK - 5 }))).statusCode).toBe(202);
    expect((await get('/posttrade/fills/fill-1')).json<{ status: string }>().status).toBe('pending');
    await auditWritten(app); // before the analysis is due, so it finds the decision
    const saved = analysisSaved();

    // Price runs down through the zone and partly back within the window.
    for (const [dt, mark] of [[20_000, 98_900], [40_000, 98_500], [WINDOW_MS, 99_250]] as const) {
      clock.set(START + dt);
      await publish(buildSnapshot({ asOf: START + dt, heatmap: heatmap(mark, START + dt) }));
      await analyzerRan(); // records the marks (the last round, at fill + window, analyses the fill)
    }
    clock.set(START + WINDOW_MS + 1);
    await saved;

    const done = (await get('/posttrade/fills/fill-1')).json<{ status: string; analysis: Record<string, unknown> & { exit: Record<string, unknown> } }>();
    expect(done.status).toBe('analysed');
    expect(done.analysis).toMatchObject({ decisionFound: true, expectedSlippageBps: decision.expectedSlippageBps, inClusterZone: false, inBuffer: false });
    expect(done.analysis.realizedSlippageBps as number).toBeGreaterThan(0);
    expect(done.analysis.exit).toMatchObject({ clusterAffected: true });
    expect(done.analysis.exit.revertedShare as number).toBeCloseTo(750 / 1_495, 9); // fell 1,495 from 99,995 to 98,500, got 750 back

    const report = (await get(`/posttrade/report?from=${new Date(START - 1).toISOString()}`)).json<{ fills: number; exits: Record<string, unknown> }>();
    expect(report.fills).toBe(1);
    expect(report.exits).toMatchObject({ n: 1, clusterAffected: 1, clusterAffectedShare: 1 });
    const other = (await get(`/posttrade/report?symbol=ETHUSDT&from=${new Date(START - 1).toISOString()}`)).json<{ fills: number }>();
    expect(other.fills).toBe(0);
  });

  it('when the gate widened its buffer for a long cascade and a low confidence, then a buy filled inside the widened buffer (outside the base 30 bps) is reported inside the buffer, as the gate rejected the order', async () => {
    const { clock, post, get, app, publish, analysisSaved } = await start();
    // 30 / 0.79 (confidence 0.47 of the 0.8 full) + 0.25 x the 160 bps long cascade: about 78 bps against the long zone 50 bps away.
    const heatmap = buildHeatmap({ asOf: START, clusters: [clusterAt('long', 50), clusterAt('short', 400)], cascades: cascadeMoves({ long: 160 }) });
    await publish(buildSnapshot({ asOf: START, heatmap, confidence: { value: 0.47, unlocatedShare: 0.53, venueCoverage: 1, accuracy: 0.5 } }));
    const decided = await app.inject({
      method: 'POST',
      url: '/pretrade-check',
      headers: bearer(TEST_KEYS.pretrade),
      payload: { symbol: 'BTCUSDT', side: 'buy', quantity: 0.01, orderType: 'market' },
    });
    expect(decided.json<{ reasons: { code: string }[] }>().reasons.map((r) => r.code)).toContain('NO_TRADE_BUFFER');
    const saved = analysisSaved();
    expect((await post(fillBody({ fillId: 'fill-buffer', side: 'buy', price: MARK }))).statusCode).toBe(202);
    clock.set(START + WINDOW_MS + 1);
    await saved;
    const done = (await get('/posttrade/fills/fill-buffer')).json<{ analysis: { inBuffer: boolean; inClusterZone: boolean; distanceToMajorBps: number } }>();
    expect(done.analysis).toMatchObject({ inBuffer: true, inClusterZone: false });
    expect(done.analysis.distanceToMajorBps).toBeCloseTo(50, 6);
  });

  it('when a fill was stored with a context that predates the gate\'s buffer inputs, then its analysis reads the heatmap history instead', async () => {
    const { clock, get, publish, analysisSaved, fills } = await start();
    await publish(buildSnapshot({ asOf: START, heatmap: buildHeatmap({ asOf: START, clusters: [clusterAt('long', 400)] }) }));
    const fill = { fillId: 'fill-old', decisionId: null, accountId: 'acct', symbol: 'BTCUSDT', side: 'buy' as const, quantity: 1, price: MARK, ts: START, fee: null, reducesPosition: null };
    // The old shape: mark, clusters and reference only (here a zone right at the fill, which history does not have).
    const oldContext = { asOf: START, markPrice: MARK, clusters: [clusterAt('long', 0)], referencePrice: MARK };
    const saved = analysisSaved();
    await fills.addFill({ fill, hash: 'h', dueAt: START + WINDOW_MS, context: oldContext });
    clock.set(START + WINDOW_MS + 1);
    await saved;
    const done = (await get('/posttrade/fills/fill-old')).json<{ analysis: { inBuffer: boolean; inClusterZone: boolean; distanceToMajorBps: number } }>();
    expect(done.analysis).toMatchObject({ inBuffer: false, inClusterZone: false });
    expect(done.analysis.distanceToMajorBps).toBeCloseTo(400, 6);
  });

  it('when calibration is asked for, then it proposes per-hour multipliers with n and never marks them applied', async () => {
    const { get } = await start();
    const res = await get('/posttrade/calibration?minSamples=1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ applied: false, timeOfDayHourlyUtc: [] });
  });
});
