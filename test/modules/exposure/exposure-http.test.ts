import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearer, manualClock, TEST_API_KEYS } from '../../helpers/app.js';
import { appPerTest } from '../../helpers/suite.js';
import { buildSnapshot } from '../../helpers/snapshots.js';
import { buildHeatmap, clusterAt } from '../../domain/pretrade/factories.js';
import type { ReserveOrder } from '../../../src/domain/exposure/limits.js';
import { limitsFor } from '../../../src/domain/exposure/policy.js';

const START = Date.UTC(2026, 10, 24, 11, 30);
const KEYS = { engine: 'engine-key-00000001', other: 'other-key-000000001', admin: 'admin-key-000000001', plain: 'plain-key-000000001' };
const API_KEYS = [
  TEST_API_KEYS, // t.publish reads GET /symbols with the test reader key
  `engine=${KEYS.engine}:pretrade+read@acct-a|acct-b`,
  `other=${KEYS.other}:pretrade+read@acct-c`,
  `admin=${KEYS.admin}:admin+read@*`,
  `plain=${KEYS.plain}:pretrade+read`,
].join(',');
const POLICY = { exposure: { limits: { maxPositionNotionalUsd: 1_000_000, maxGrossNotionalUsd: 1_500_000, maxLossUsd: 50_000 }, accounts: { 'acct-b': { maxGrossNotionalUsd: 100_000 } } } };

describe.each(['memory', 'redis'] as const)('exposure over HTTP (%s store)', (store) => {
  const buildApp = appPerTest();

  async function start() {
    const clock = manualClock(START);
    const t = await buildApp({ clock, store, env: { API_KEYS, POLICY_JSON: JSON.stringify(POLICY), HEATMAP_MAX_AGE_MS: '600000' } });
    const app = t.app;
    for (const [symbol, mark] of [['BTCUSDT', 100_000], ['ETHUSDT', 4_000]] as const)
      await t.publish(buildSnapshot({ symbol, asOf: START, heatmap: buildHeatmap({ symbol, asOf: START, markPrice: mark, clusters: [clusterAt('long', 100, {}, mark), clusterAt('short', 300, {}, mark)] }) }));
    const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object, key: string = KEYS.engine) =>
      app.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
    // Reserves through the store the app uses, with the context the policy gives (the gate's
    // own reservations are exercised in the pretrade tests).
    const policy = t.config.exposure;
    const stores = t.stores;
    const exposure = {
      reserve: (accountId: string, orders: readonly ReserveOrder[], now: number) =>
        stores.exposure.reserve(accountId, orders, {
          now,
          limits: limitsFor(policy, accountId),
          scale: 1,
          marks: { BTCUSDT: 100_000, ETHUSDT: 4_000 },
          positionsMaxAgeMs: policy.positionsMaxAgeMs,
          requireConfirmedPositions: policy.requireConfirmedPositions,
          reservationTtlMs: policy.reservationTtlMs,
          maxLossWindowMs: policy.maxLossWindowMs,
        }),
    };
    return { clock, call, app, exposure, config: t.config };
  }

  it('when a snapshot is PUT, then GET exposure shows the positions at the mark and each limit with its use', async () => {
    const { call } = await start();
    const put = await call('PUT', '/accounts/acct-a/positions', { asOf: new Date(START - 1_000).toISOString(), positions: [{ symbol: 'BTCUSDT', quantity: 2, entryPrice: 95_000 }] });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ accountId: 'acct-a', reconciledAt: new Date(START - 1_000).toISOString(), replayedFills: 0 });
    const res = await call('GET', '/accounts/acct-a/exposure');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      accountId: 'acct-a',
      known: true,
      state: 'ACTIVE',
      positionsConfirmed: true,
      positions: [{ symbol: 'BTCUSDT', quantity: 2, entryPrice: 95_000, markPrice: 100_000, notionalUsd: 200_000, unrealizedPnlUsd: 10_000 }],
      reservations: [],
      unpriced: [],
    });
    expect(body.limits).toEqual(
      expect.arrayContaining([
        { name: 'maxPositionNotionalUsd', symbol: 'BTCUSDT', limit: 1_000_000, used: 200_000, usedShare: 0.2 },
        { name: 'maxGrossNotionalUsd', symbol: null, limit: 1_500_000, used: 200_000, usedShare: 0.1333 },
        { name: 'maxLossUsd', symbol: null, limit: 50_000, used: 0, usedShare: 0 },
      ]),
    );
  });

  it('when a key acts for an account it does not list, then 403 naming the field; a key with no list acts for its own id', async () => {
    const { call } = await start();
    const forbidden = await call('GET', '/accounts/acct-c/exposure');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: 'ACCOUNT_FORBIDDEN', details: [{ path: 'params.accountId' }] });
    expect((await call('PUT', '/accounts/acct-c/positions', { asOf: new Date(START).toISOString(), positions: [] })).statusCode).toBe(403);
    expect((await call('POST', `/decisions/${randomUUID()}/release`, { accountId: 'acct-c' })).statusCode).toBe(403);
    expect((await call('GET', '/accounts/plain/exposure', undefined, KEYS.plain)).statusCode).toBe(200);
    expect((await call('GET', '/accounts/acct-a/exposure', undefined, KEYS.plain)).statusCode).toBe(403);
    expect((await call('GET', '/accounts/acct-c/exposure', undefined, KEYS.admin)).statusCode).toBe(200);
  });

  it('when a snapshot is malformed, oversized, duplicated or older than the one in force, then 4xx naming the field', async () => {
    const { call } = await start();
    const at = new Date(START).toISOString();
    const cases: [object, string][] = [
      [{ asOf: at, positions: [{ symbol: 'BTCUSDT', quantity: Number.MAX_VALUE, entryPrice: 1 }] }, 'body.positions.0.quantity'],
      [{ asOf: at, positions: [{ symbol: 'BTCUSDT', quantity: 1, entryPrice: -1 }] }, 'body.positions.0.entryPrice'],
      [{ asOf: at, positions: [{ symbol: 'BTCUSDT', quantity: 1, entryPrice: 1 }, { symbol: 'BTCUSDT', quantity: 1, entryPrice: 1 }] }, 'body.positions.1.symbol'],
      [{ asOf: at, positions: Array.from({ length: 501 }, (_, i) => ({ symbol: `S${i}USDT`, quantity: 1, entryPrice: 1 })) }, 'body.positions'],
      [{ asOf: 'now', positions: [] }, 'body.asOf'],
      [{ asOf: new Date(START + 60_000).toISOString(), positions: [] }, 'body.asOf'],
    ];
    for (const [payload, path] of cases) {
      const res = await call('PUT', '/accounts/acct-a/positions', payload);
      expect(res.statusCode, path).toBe(400);
      expect(res.json<{ details: { path: string }[] }>().details.map((d) => d.path), path).toContain(path);
    }
    expect((await call('PUT', '/accounts/acct-a/positions', { asOf: at, positions: [] })).statusCode).toBe(200);
    const stale = await call('PUT', '/accounts/acct-a/positions', { asOf: new Date(START - 1).toISOString(), positions: [] });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ error: 'STALE_SNAPSHOT', details: [{ path: 'body.asOf' }] });
  });

  it('when a reservation is released, then it is gone and releasing again is harmless', async () => {
    const { call, exposure, clock } = await start();
    const decisionId = randomUUID();
    const [out] = await exposure.reserve('acct-a', [{ decisionId, symbol: 'BTCUSDT', side: 'buy', quantity: 3, price: 100_000, reduceOnly: false, quantityStep: 0 }], clock());
    expect(out?.quantity).toBe(3);
    expect((await call('GET', '/accounts/acct-a/exposure')).json().reservations).toEqual([expect.objectContaining({ decisionId, quantity: 3, notionalUsd: 300_000 })]);
    expect((await call('POST', `/decisions/${decisionId}/release`, { accountId: 'acct-a' })).json()).toEqual({ decisionId, accountId: 'acct-a', released: true, journaled: false });
    expect((await call('POST', `/decisions/${decisionId}/release`, { accountId: 'acct-a' })).json()).toMatchObject({ released: false });
    expect((await call('POST', '/decisions/not-a-uuid/release', {})).statusCode).toBe(400);
    // No body: the key's default account (its first).
    expect((await call('POST', `/decisions/${decisionId}/release`)).json()).toMatchObject({ accountId: 'acct-a', released: false });
  });

  it("when an account's own override is lower, then its limit use shows it", async () => {
    const { call, exposure, clock } = await start();
    const [out] = await exposure.reserve('acct-b', [{ decisionId: randomUUID(), symbol: 'ETHUSDT', side: 'sell', quantity: 50, price: 4_000, reduceOnly: false, quantityStep: 0 }], clock());
    expect(out?.quantity).toBe(25);
    expect(out?.reasons[0]).toMatchObject({ code: 'EXPOSURE_GROSS_LIMIT', limit: 100_000, observed: 200_000 });
    const limits = (await call('GET', '/accounts/acct-b/exposure')).json().limits;
    expect(limits).toContainEqual({ name: 'maxGrossNotionalUsd', symbol: null, limit: 100_000, used: 100_000, usedShare: 1 });
  });

  it('when the max loss is breached, then the account reads REDUCING until an admin resets it', async () => {
    const { call, exposure, clock, app } = await start();
    await call('PUT', '/accounts/acct-a/positions', { asOf: new Date(START - 1_000).toISOString(), positions: [{ symbol: 'BTCUSDT', quantity: 5, entryPrice: 111_000 }] });
    const [out] = await exposure.reserve('acct-a', [{ decisionId: randomUUID(), symbol: 'BTCUSDT', side: 'buy', quantity: 0.1, price: 100_000, reduceOnly: false, quantityStep: 0 }], clock());
    expect(out?.reasons[0]?.code).toBe('ACCOUNT_MAX_LOSS');
    expect((await call('GET', '/accounts/acct-a/exposure')).json()).toMatchObject({ state: 'REDUCING' });
    expect((await call('POST', '/accounts/acct-a/reset-reducing', undefined, KEYS.engine)).statusCode).toBe(403);
    const reset = await app.inject({ method: 'POST', url: '/accounts/acct-a/reset-reducing', headers: bearer(KEYS.admin) });
    expect(reset.json()).toEqual({ accountId: 'acct-a', wasReducing: true });
    expect((await call('GET', '/accounts/acct-a/exposure')).json()).toMatchObject({ state: 'ACTIVE' });
  });

  it('POST /risk/portfolio scores each position against its danger zone; an unknown symbol is a 400 naming it', async () => {
    const { call } = await start();
    const res = await call('POST', '/risk/portfolio', { positions: [{ symbol: 'BTCUSDT', side: 'long', notional: 500_000, leverage: 100 }, { symbol: 'ETHUSDT', side: 'short', notional: 100_000 }] });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.positions[0]).toMatchObject({ symbol: 'BTCUSDT', dangerZone: { distanceBps: 100 }, liquidationInsideCascade: true });
    expect(body.positions[1]).toMatchObject({ symbol: 'ETHUSDT', dangerZone: { distanceBps: 300 } });
    expect(body.exposureMultiplier).toBeGreaterThan(0);
    expect(body.exposureMultiplier).toBeLessThan(1);
    // No history yet: the pair counts as fully correlated.
    expect(body.correlations).toEqual([{ a: 'BTCUSDT', b: 'ETHUSDT', rho: 1, n: 0, assumed: true }]);
    expect(body.correlationWindow).toMatchObject({ barMs: 300_000, returns: 144 });
    const bad = await call('POST', '/risk/portfolio', { positions: [{ symbol: 'DOGEUSDT', side: 'long', notional: 1 }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details).toEqual([expect.objectContaining({ path: 'body.positions.0.symbol' })]);
    expect((await call('POST', '/risk/portfolio', { positions: [] })).statusCode).toBe(400);
    expect((await call('POST', '/risk/portfolio', { positions: [{ symbol: 'BTCUSDT', side: 'long', notional: -5 }] })).json().details[0].path).toBe('body.positions.0.notional');
  });

  it('GET /risk/summary lists every symbol and the accounts the key may act for', async () => {
    const { call } = await start();
    await call('PUT', '/accounts/acct-c/positions', { asOf: new Date(START).toISOString(), positions: [] }, KEYS.other);
    const mine = (await call('GET', '/risk/summary')).json();
    expect(mine.symbols.map((s: { symbol: string }) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(mine.symbols[0]).toMatchObject({ available: true, riskScore: 20, nearestMajorCluster: { side: 'long', distanceBps: 100 } });
    expect(mine.accounts.map((a: { accountId: string }) => a.accountId)).toEqual(['acct-a', 'acct-b']);
    const all = (await call('GET', '/risk/summary', undefined, KEYS.admin)).json();
    expect(all.accounts.map((a: { accountId: string }) => a.accountId)).toEqual(['acct-b', 'acct-c']);
  });

  it('when fills are posted, then positions move once per fillId, a resent body changes nothing, and the key cannot post for another account', async () => {
    const { call } = await start();
    const fill = (overrides: Record<string, unknown> = {}) => ({ fillId: 'x-1', symbol: 'BTCUSDT', side: 'buy', quantity: 2, price: 100_000, executedAt: new Date(START - 500).toISOString(), ...overrides });
    const first = await call('POST', '/fills', fill());
    expect(first.statusCode).toBe(202);
    expect(first.json().flags).toEqual([]);
    expect((await call('POST', '/fills', fill())).json().status).toBe('duplicate');
    expect((await call('POST', '/fills', fill({ quantity: 3 }))).statusCode).toBe(409);
    // A decision with no open reservation: applied and flagged.
    const unknown = await call('POST', '/fills', fill({ fillId: 'x-2', side: 'sell', quantity: 0.5, decisionId: randomUUID() }));
    expect(unknown.json().flags).toEqual(['NO_OPEN_RESERVATION']);
    const forbidden = await call('POST', '/fills', fill({ fillId: 'x-3', accountId: 'acct-c' }));
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().details).toEqual([expect.objectContaining({ path: 'body.accountId' })]);
    const body = (await call('GET', '/accounts/acct-a/exposure')).json();
    expect(body.positions).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', quantity: 1.5, entryPrice: 100_000 })]);
    // A snapshot taken before the fills: they are applied on top of it.
    const put = await call('PUT', '/accounts/acct-a/positions', { asOf: new Date(START - 1_000).toISOString(), positions: [{ symbol: 'BTCUSDT', quantity: 1, entryPrice: 90_000 }] });
    expect(put.json().replayedFills).toBe(2);
    expect((await call('GET', '/accounts/acct-a/exposure')).json().positions[0]).toMatchObject({ quantity: 2.5 });
  });

  it('when a fill executed before the fill retention window is posted (twice), then it is refused naming executedAt and positions never move by it', async () => {
    const { call, config } = await start();
    // The store forgets a fillId once its executedAt leaves the retention window: it could not tell a resend from a new fill.
    const old = { fillId: 'old-1', symbol: 'BTCUSDT', side: 'sell', quantity: 1, price: 100_000, executedAt: new Date(START - config.exposure.fillRetentionMs - 60_000).toISOString() };
    for (let i = 0; i < 2; i++) {
      const res = await call('POST', '/fills', old);
      expect(res.statusCode).toBe(400);
      expect(res.json().details).toEqual([expect.objectContaining({ path: 'body.executedAt' })]);
    }
    expect((await call('GET', '/accounts/acct-a/exposure')).json().positions).toEqual([]);
  });

  it('when a fill consumes an open reservation, then the reservation shrinks and no flag is raised', async () => {
    const { call, exposure, clock } = await start();
    const decisionId = randomUUID();
    await exposure.reserve('acct-a', [{ decisionId, symbol: 'ETHUSDT', side: 'sell', quantity: 10, price: 4_000, reduceOnly: false, quantityStep: 0 }], clock());
    const res = await call('POST', '/fills', { fillId: 'y-1', decisionId, symbol: 'ETHUSDT', side: 'sell', quantity: 4, price: 4_000, executedAt: new Date(START).toISOString() });
    expect(res.json().flags).toEqual([]);
    const body = (await call('GET', '/accounts/acct-a/exposure')).json();
    expect(body.reservations).toEqual([expect.objectContaining({ decisionId, quantity: 6 })]);
    expect(body.positions).toEqual([expect.objectContaining({ symbol: 'ETHUSDT', quantity: -4 })]);
  });
});
