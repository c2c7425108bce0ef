import { afterEach, describe, expect, it } from 'vitest';
import type { ExposureStore } from '../../../src/stores/exposure-store.js';
import type { IdempotencyStore } from '../../../src/stores/idempotency-store.js';
import type { Stores } from '../../../src/stores/index.js';
import { bearer, buildTestApp, manualClock, TEST_APP_API_KEYS, TEST_KEYS, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { buildRequest, check, checkBatch, NOW, publishHeatmap } from './helpers.js';

/**
 * The gate reserves exposure: after the rules, an approved order goes through its
 * account's check-and-reserve, and the stricter of the two answers. Mark 100,000 (the
 * calm heatmap); the per-symbol limit here is 250,000 USD, so 2.5 BTC at most.
 */

const DESK_KEY = 'desk-key-0000000001';
const API_KEYS = `${TEST_APP_API_KEYS},desk=${DESK_KEY}:pretrade+read@fund-a|fund-b`;
const LIMITS = { maxPositionNotionalUsd: 250_000, maxGrossNotionalUsd: 10_000_000, maxNetNotionalUsd: 10_000_000 };

const codes = (xs: { code: string }[]) => xs.map((x) => x.code);

/** Counts what the gate asks of the exposure and idempotency stores (round trips on the hot path). */
function counting(built: Stores) {
  const calls: string[] = [];
  const exposure: ExposureStore = {
    ...built.exposure,
    reserve: (id, orders, ctx) => {
      calls.push(`exposure.reserve:${id}:${orders.length}`);
      return built.exposure.reserve(id, orders, ctx);
    },
    get: (id) => {
      calls.push(`exposure.get:${id}`);
      return built.exposure.get(id);
    },
  };
  const shared = built.idempotency;
  const idempotency: IdempotencyStore | null = shared && {
    putIfAbsent: (key, entry, ttl) => {
      calls.push('idempotency.putIfAbsent');
      return shared.putIfAbsent(key, entry, ttl);
    },
  };
  return { calls, stores: { exposure, idempotency } };
}

describe('the gate reserves exposure', () => {
  let t: TestApp | undefined;
  const clock = manualClock(NOW);
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start(opts: { policy?: Record<string, unknown>; stores?: TestAppOptions['stores']; store?: 'memory' | 'redis' } = {}) {
    clock.set(NOW);
    t = await buildTestApp({
      clock,
      store: opts.store ?? 'memory',
      env: {
        API_KEYS,
        DECISION_VALID_MS: '60000',
        POLICY_JSON: JSON.stringify({ exposure: { limits: LIMITS, ...opts.policy } }),
      },
      ...(opts.stores ? { stores: opts.stores } : {}),
    });
    await publishHeatmap(t);
    return t;
  }

  it('when orders of one account add up past a limit, then the one crossing it is resized naming the limit in USD and the next is rejected', async () => {
    const { app, stores } = await start();
    const order = buildRequest({ quantity: 1, accountId: 'acct-1' });
    const first = (await check(app, order)).json();
    const second = (await check(app, order)).json();
    const third = (await check(app, order)).json();
    const fourth = (await check(app, order)).json();
    expect([first.decision, second.decision]).toEqual(['APPROVE', 'APPROVE']);
    expect(third).toMatchObject({ decision: 'RESIZE' });
    expect(third.approvedQuantity).toBeGreaterThan(0);
    expect(third.approvedQuantity).toBeLessThan(0.5 + 1e-9);
    const limit = third.reasons.find((r: { code: string }) => r.code === 'EXPOSURE_POSITION_LIMIT');
    expect(limit).toMatchObject({ limit: 250_000 });
    expect(limit.observed).toBeGreaterThan(250_000);
    expect(fourth).toMatchObject({ decision: 'REJECT', approvedQuantity: 0 });
    expect(codes(fourth.reasons)).toContain('EXPOSURE_POSITION_LIMIT');
    // Each approval is reserved under its decisionId; the rejection reserved nothing.
    const state = await stores.exposure.get('acct-1');
    expect(state?.reservations.map((r) => [r.decisionId, r.quantity])).toEqual([
      [first.decisionId, 1],
      [second.decisionId, 1],
      [third.decisionId, third.approvedQuantity],
    ]);
    // The audit record answers the same decision, exposure reasons included.
    const rec = await app.inject({ method: 'GET', url: `/decisions/${third.decisionId}`, headers: bearer(DESK_KEY) });
    expect(codes(rec.json().decision.reasons)).toContain('EXPOSURE_POSITION_LIMIT');
  });

  it('when the request names no account, then the key\'s default account reserves; another account\'s limit is untouched', async () => {
    const { app, stores } = await start();
    const made = (await check(app, buildRequest({ quantity: 2 }), DESK_KEY)).json();
    expect(made.decision).toBe('APPROVE');
    expect((await stores.exposure.get('fund-a'))?.reservations.map((r) => r.decisionId)).toEqual([made.decisionId]);
    expect((await check(app, buildRequest({ quantity: 2, accountId: 'fund-b' }), DESK_KEY)).json().decision).toBe('APPROVE');
  });

  it('when the key may not act for the account, then 403 ACCOUNT_FORBIDDEN names body.accountId (and the batch order\'s path) and nothing is reserved', async () => {
    const { app, stores } = await start();
    const res = await check(app, buildRequest({ accountId: 'fund-c' }), DESK_KEY);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'ACCOUNT_FORBIDDEN', details: [{ path: 'body.accountId' }] });
    const batch = await checkBatch(app, [buildRequest({ accountId: 'fund-a' }), buildRequest({ accountId: 'fund-c' })], DESK_KEY);
    expect(batch.statusCode).toBe(403);
    expect(batch.json()).toMatchObject({ error: 'ACCOUNT_FORBIDDEN', details: [{ path: 'body.orders.1.accountId' }] });
    expect(await stores.exposure.get('fund-a')).toBeNull();
  });

  it('when the exposure store fails, then risk-adding orders are rejected EXPOSURE_UNAVAILABLE and reduce-only ones pass with that warning', async () => {
    const failing = (built: Stores): Partial<Stores> => ({
      exposure: { ...built.exposure, reserve: () => Promise.reject(new Error('connection lost')) },
    });
    const { app } = await start({ stores: failing });
    const opening = (await check(app, buildRequest({ accountId: 'acct-1' }))).json();
    expect(opening).toMatchObject({ decision: 'REJECT', approvedQuantity: 0, approvedNotional: 0 });
    expect(codes(opening.reasons)).toContain('EXPOSURE_UNAVAILABLE');
    const closing = (await check(app, buildRequest({ accountId: 'acct-1', side: 'sell', reduceOnly: true }))).json();
    expect(closing.decision).toBe('APPROVE');
    expect(codes(closing.warnings)).toContain('EXPOSURE_UNAVAILABLE');
    const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: bearer(TEST_KEYS.metrics) })).body;
    expect(metrics).toMatch(/liqgate_exposure_unavailable_total\{outcome="rejected"[^}]*\} 1/);
    expect(metrics).toMatch(/liqgate_exposure_unavailable_total\{outcome="passed"[^}]*\} 1/);
  });

  it('when an account holds reservations, then /metrics shows its reservations open and its limit use at scrape time', async () => {
    const { app, stores } = await start();
    await stores.exposure.reconcile('acct-m', NOW - 1_000, [], NOW);
    await check(app, buildRequest({ accountId: 'acct-m', quantity: 1 }));
    await check(app, buildRequest({ accountId: 'acct-m', quantity: 0.25 }));
    const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: bearer(TEST_KEYS.metrics) })).body;
    expect(metrics).toMatch(/liqgate_exposure_reservations_open\{account="acct-m"[^}]*\} 2/);
    const use = /liqgate_exposure_limit_use_ratio\{account="acct-m",limit="maxPositionNotionalUsd",symbol="BTCUSDT"[^}]*\} ([0-9.]+)/.exec(metrics);
    expect(Number(use?.[1])).toBeGreaterThan(0.49); // 1.25 BTC of 2.5 at the mark
    expect(Number(use?.[1])).toBeLessThan(0.52);
  });

  it.each(['memory', 'redis'] as const)(
    'when an account has only the gate\'s reservations (no fill, no reconciliation, not configured) (%s store), then /metrics and GET /risk/summary show it',
    async (store) => {
      const { app } = await start({ store });
      expect((await check(app, buildRequest({ accountId: 'gate-only', quantity: 1 }))).json().decision).toBe('APPROVE');
      await expect
        .poll(async () => (await app.inject({ method: 'GET', url: '/metrics', headers: bearer(TEST_KEYS.metrics) })).body)
        .toMatch(/liqgate_exposure_reservations_open\{account="gate-only"[^}]*\} 1/);
      const summary = (await app.inject({ method: 'GET', url: '/risk/summary', headers: bearer(TEST_KEYS.all) })).json();
      const acct = summary.accounts.find((a: { accountId: string }) => a.accountId === 'gate-only');
      expect(acct?.limits).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'maxOpenReservations', used: 1 })]));
    },
  );

  it('when scaleWithPortfolioMultiplier is on and a fill opens a position, then the gate scales that account\'s limits by its multiplier without anyone reading the account', async () => {
    const scales: number[] = [];
    const { app } = await start({
      policy: { scaleWithPortfolioMultiplier: true },
      stores: (built) => ({
        exposure: {
          ...built.exposure,
          reserve: (id, orders, ctx) => {
            scales.push(ctx.scale);
            return built.exposure.reserve(id, orders, ctx);
          },
        },
      }),
    });
    const fill = { fillId: 'f-1', accountId: 'acct-s', symbol: 'BTCUSDT', side: 'buy', quantity: 2, price: 100_000, executedAt: new Date(NOW - 500).toISOString() };
    expect((await app.inject({ method: 'POST', url: '/fills', headers: bearer(TEST_KEYS.pretrade), payload: fill })).statusCode).toBe(202);
    // A reduce-only sell passes the rules, so its check-and-reserve shows the context the gate used.
    const closing = buildRequest({ accountId: 'acct-s', side: 'sell', quantity: 0.01, reduceOnly: true });
    await expect
      .poll(async () => {
        await check(app, closing);
        return scales.at(-1);
      })
      .toBeLessThan(1);
    expect(scales.at(-1)).toBeGreaterThan(0.25 - 1e-9);
  });

  it('when the exposure store fails and the policy requires confirmed positions, then reduce-only orders are rejected too', async () => {
    const failing = (built: Stores): Partial<Stores> => ({
      exposure: { ...built.exposure, reserve: () => Promise.reject(new Error('connection lost')) },
    });
    const { app } = await start({ stores: failing, policy: { requireConfirmedPositions: true } });
    const closing = (await check(app, buildRequest({ accountId: 'acct-1', side: 'sell', reduceOnly: true }))).json();
    expect(closing.decision).toBe('REJECT');
    expect(codes(closing.reasons)).toContain('EXPOSURE_UNAVAILABLE');
  });

  it('when an approval\'s reservation was released, then its idempotent replay is 409 DECISION_EXPIRED, and a fresh id reserves again', async () => {
    const { app, stores } = await start();
    const order = buildRequest({ accountId: 'acct-1', clientOrderId: 'o-1', quantity: 2 });
    const made = (await check(app, order)).json();
    expect(made.decision).toBe('APPROVE');
    const replay = await check(app, order);
    expect(replay.headers['idempotent-replay']).toBe('true');
    expect(replay.json().decisionId).toBe(made.decisionId);
    // The replay's own fresh reservation was given back: only the first one is held.
    await expect.poll(async () => (await stores.exposure.get('acct-1'))?.reservations.map((r) => r.decisionId)).toEqual([made.decisionId]);

    expect(await stores.exposure.release('acct-1', made.decisionId)).toBe(true);
    const after = await check(app, order);
    expect(after.statusCode).toBe(409);
    expect(after.json()).toMatchObject({ error: 'DECISION_EXPIRED' });
    expect(after.json().message).toContain('reservation');
    expect((await check(app, { ...order, clientOrderId: 'o-2' })).json().decision).toBe('APPROVE');
  });

  it('when an approval\'s reservation expired (reservationTtlMs) while the decision is still valid, then its replay is 409 DECISION_EXPIRED', async () => {
    const { app } = await start({ policy: { reservationTtlMs: 1_000 } });
    const order = buildRequest({ accountId: 'acct-1', clientOrderId: 'o-1' });
    expect((await check(app, order)).json().decision).toBe('APPROVE');
    clock.advance(2_000);
    const after = await check(app, order);
    expect(after.statusCode).toBe(409);
    expect(after.json()).toMatchObject({ error: 'DECISION_EXPIRED' });
  });

  it.each(['memory', 'redis'] as const)(
    'when an account reached its approved-orders limit (%s store), then the next order is a REJECT naming ACCOUNT_ORDER_RATE_LIMIT with retryAfterMs, and after that wait it is approved',
    async (store) => {
      const { app } = await start({ store, policy: { limits: { ...LIMITS, maxApprovedOrders: 2, approvalWindowMs: 10_000 } } });
      const order = buildRequest({ accountId: 'acct-r', quantity: 0.1 });
      expect((await check(app, order)).json().decision).toBe('APPROVE');
      clock.advance(3_000);
      const second = (await check(app, order)).json();
      expect(second.decision).toBe('APPROVE');
      expect(second).not.toHaveProperty('retryAfterMs');
      clock.advance(1_000);
      const limited = (await check(app, order)).json();
      expect(limited).toMatchObject({ decision: 'REJECT', approvedQuantity: 0 });
      expect(limited.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'ACCOUNT_ORDER_RATE_LIMIT', limit: 2, observed: 2 })]));
      expect(Number.isInteger(limited.retryAfterMs)).toBe(true);
      expect(limited.retryAfterMs).toBeGreaterThan(0);
      // The audit record carries it too, and the batch answers it per order.
      const rec = await app.inject({ method: 'GET', url: `/decisions/${limited.decisionId}`, headers: bearer(TEST_KEYS.read) });
      expect(rec.json().decision.retryAfterMs).toBe(limited.retryAfterMs);
      const batch = (await checkBatch(app, [order])).json().results[0];
      expect(batch).toMatchObject({ decision: 'REJECT' });
      expect(batch.retryAfterMs).toBe(limited.retryAfterMs);

      // One ms short of the wait the limit still holds; after it the order passes.
      clock.advance(limited.retryAfterMs - 1);
      await publishHeatmap(t as TestApp, { asOf: clock() - 1_000 });
      expect((await check(app, order)).json().decision).toBe('REJECT');
      clock.advance(1);
      const after = (await check(app, order)).json();
      expect(after.decision).toBe('APPROVE');
      expect(after).not.toHaveProperty('retryAfterMs');
    },
  );

  it('when the approved notional would pass its limit, then the order is resized to what is left with ACCOUNT_NOTIONAL_RATE_LIMIT and retryAfterMs', async () => {
    const { app } = await start({ policy: { limits: { ...LIMITS, maxApprovedNotionalUsd: 150_000, approvalWindowMs: 10_000 } } });
    expect((await check(app, buildRequest({ accountId: 'acct-n', quantity: 1 }))).json().decision).toBe('APPROVE');
    const resized = (await check(app, buildRequest({ accountId: 'acct-n', quantity: 1 }))).json();
    expect(resized.decision).toBe('RESIZE');
    expect(resized.approvedQuantity).toBeGreaterThan(0);
    expect(resized.approvedQuantity).toBeLessThan(0.5 + 1e-9);
    expect(codes(resized.reasons)).toContain('ACCOUNT_NOTIONAL_RATE_LIMIT');
    expect(resized.retryAfterMs).toBeGreaterThan(0);
  });

  it('when a decision is made, then its policyVersion is the one GET /policy shows with the exposure policy in force', async () => {
    const { app } = await start();
    const made = (await check(app, buildRequest({ accountId: 'acct-1' }))).json();
    const policy = (await app.inject({ method: 'GET', url: '/policy', headers: bearer(TEST_KEYS.read) })).json();
    expect(made.policyVersion).toBe(policy.version);
    expect(policy.exposure.limits).toMatchObject(LIMITS);
    const rec = (await app.inject({ method: 'GET', url: `/decisions/${made.decisionId}`, headers: bearer(TEST_KEYS.read) })).json();
    expect(rec.policyVersion).toBe(policy.version);
  });

  it('when a REJECT is replayed, then the same REJECT is answered again (it reserved nothing to lose)', async () => {
    const { app } = await start();
    const order = buildRequest({ accountId: 'acct-1', clientOrderId: 'big', quantity: 5 });
    await check(app, buildRequest({ accountId: 'acct-1', quantity: 2.5 }));
    const made = (await check(app, order)).json();
    expect(made.decision).toBe('REJECT');
    const replay = await check(app, order);
    expect(replay.statusCode).toBe(200);
    expect(replay.json().decisionId).toBe(made.decisionId);
  });

  it.each(['memory', 'redis'] as const)(
    'when one order is checked (%s store), then the hot path makes two store round trips: the reserve and the idempotency write',
    async (store) => {
      let counter: ReturnType<typeof counting> | undefined;
      const { app } = await start({
        store,
        stores: (built) => {
          counter = counting(built);
          return store === 'redis' ? counter.stores : { exposure: counter.stores.exposure };
        },
      });
      const calls = counter?.calls ?? [];
      expect((await check(app, buildRequest({ accountId: 'acct-1', clientOrderId: 'rt-1' }))).json().decision).toBe('APPROVE');
      expect(calls).toEqual(store === 'redis' ? ['exposure.reserve:acct-1:1', 'idempotency.putIfAbsent'] : ['exposure.reserve:acct-1:1']);
    },
  );

  it('when a batch holds orders of two accounts, then it reserves with one call per account', async () => {
    let counter: ReturnType<typeof counting> | undefined;
    const { app } = await start({
      stores: (built) => {
        counter = counting(built);
        return { exposure: counter.stores.exposure };
      },
    });
    const res = await checkBatch(app, [
      buildRequest({ accountId: 'acct-1', quantity: 1 }),
      buildRequest({ accountId: 'acct-2', quantity: 1 }),
      buildRequest({ accountId: 'acct-1', quantity: 1 }),
      buildRequest({ accountId: 'acct-1', quantity: 1 }),
    ]);
    expect(res.json().results.map((r: { decision: string }) => r.decision)).toEqual(['APPROVE', 'APPROVE', 'APPROVE', 'RESIZE']);
    expect([...(counter?.calls ?? [])].sort()).toEqual(['exposure.reserve:acct-1:3', 'exposure.reserve:acct-2:1']);
  });
});
