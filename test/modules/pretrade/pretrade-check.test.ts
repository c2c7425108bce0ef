import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { buildBook, clusterAt } from '../../domain/pretrade/factories.js';
import { AuditRecordSchema, PretradeDecisionSchema } from '../../../src/modules/pretrade/schemas.js';
import { buildRequest, check, NOW, publishHeatmap } from './helpers.js';

describe('POST /pretrade-check', () => {
  let t: TestApp;
  const clock = manualClock(NOW);

  beforeEach(async () => {
    clock.set(NOW);
    t = await buildTestApp({ clock });
  });
  afterEach(async () => {
    await t.close();
  });

  describe('when the market is calm and the order small', () => {
    it('then it is approved with every documented field, and the policy version GET /policy shows', async () => {
      const snap = await publishHeatmap(t);
      const res = await check(t.app, buildRequest({ quantity: 0.5 }));
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({
        decision: 'APPROVE',
        symbol: 'BTCUSDT',
        side: 'buy',
        clientOrderId: null,
        requestedQuantity: 0.5,
        approvedQuantity: 0.5,
        reasons: [],
        heatmapAsOf: new Date(snap.asOf).toISOString(),
        heatmapAgeMs: 1_000,
        heatmapVersion: snap.version,
        source: 'sim',
        timeOfDayMultiplier: 1,
        evaluatedAt: new Date(NOW).toISOString(),
        validUntil: new Date(NOW + t.config.pretrade.decisionValidMs).toISOString(),
      });
      expect(body.approvedNotional).toBe(body.requestedNotional);
      expect(body.riskScore).toBeGreaterThanOrEqual(0);
      expect(body.riskScore).toBeLessThanOrEqual(100);
      expect(body.nearestCluster).toMatchObject({ major: true });
      expect(body.decisionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(PretradeDecisionSchema.strict().parse(body)).toEqual(body);

      const policy = await t.app.inject({ method: 'GET', url: '/policy', headers: bearer(TEST_KEYS.read) });
      expect(policy.statusCode).toBe(200);
      expect(body.policyVersion).toBe(policy.json().version);
      expect(policy.json().symbols.BTCUSDT.pretrade.maxNotionalUsd).toBe(t.config.policy.symbols.BTCUSDT?.pretrade.maxNotionalUsd);
      expect(policy.json().service.decisionValidMs).toBe(Date.parse(body.validUntil) - Date.parse(body.evaluatedAt));
    });
  });

  describe('when a rule binds, then the decision is a 200 carrying its stable reason', () => {
    it('a symbol the gate does not serve is rejected UNKNOWN_SYMBOL', async () => {
      const res = await check(t.app, buildRequest({ symbol: 'DOGEUSDT' }));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ decision: 'REJECT', approvedQuantity: 0, reasons: [{ code: 'UNKNOWN_SYMBOL' }] });
      expect(PretradeDecisionSchema.strict().parse(res.json())).toEqual(res.json());
    });

    it('a known symbol with no heatmap yet is rejected HEATMAP_STALE', async () => {
      const res = await check(t.app, buildRequest({ symbol: 'ETHUSDT' }));
      expect(res.json()).toMatchObject({ decision: 'REJECT', reasons: [{ code: 'HEATMAP_STALE' }] });
    });

    it('a heatmap older than HEATMAP_MAX_AGE_MS is rejected HEATMAP_STALE with limit and observed age', async () => {
      await publishHeatmap(t);
      clock.advance(t.config.market.heatmapMaxAgeMs);
      const res = await check(t.app, buildRequest());
      expect(res.json()).toMatchObject({
        decision: 'REJECT',
        reasons: [{ code: 'HEATMAP_STALE', limit: t.config.market.heatmapMaxAgeMs, observed: t.config.market.heatmapMaxAgeMs + 1_000 }],
      });
    });

    it('a major cluster inside the no-trade buffer rejects NO_TRADE_BUFFER', async () => {
      await publishHeatmap(t, { clusters: [clusterAt('long', 10)] });
      const res = await check(t.app, buildRequest());
      expect(res.json()).toMatchObject({ decision: 'REJECT', approvedQuantity: 0 });
      expect(res.json().reasons.map((r: { code: string }) => r.code)).toContain('NO_TRADE_BUFFER');
    });

    it('an order too large for the book is resized to a smaller positive size (SLIPPAGE_LIMIT)', async () => {
      await publishHeatmap(t, { orderBook: buildBook({ ts: NOW - 1_000, size: 0.1 }) });
      const res = await check(t.app, buildRequest({ quantity: 5 }));
      const body = res.json();
      expect(body.decision).toBe('RESIZE');
      expect(body.approvedQuantity).toBeGreaterThan(0);
      expect(body.approvedQuantity).toBeLessThan(5);
      expect(body.reasons.map((r: { code: string }) => r.code)).toContain('SLIPPAGE_LIMIT');
      expect(PretradeDecisionSchema.strict().parse(body)).toEqual(body);
    });
  });

  describe('when the request is malformed, then 400 names the field', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['an unknown field', buildRequest({ price: 1 }), 'body'],
      ['a negative quantity', buildRequest({ quantity: -1 }), 'body.quantity'],
      ['a quantity given as a string', buildRequest({ quantity: '1' }), 'body.quantity'],
      ['both quantity and notional', buildRequest({ notional: 1_000 }), 'body.notional'],
      ['neither quantity nor notional', { symbol: 'BTCUSDT', side: 'buy', orderType: 'market' }, 'body.quantity'],
      ['a limit order without limitPrice', buildRequest({ orderType: 'limit' }), 'body.limitPrice'],
      ['a market order with a limitPrice', buildRequest({ limitPrice: 100_000 }), 'body.limitPrice'],
      ['an unknown side', buildRequest({ side: 'long' }), 'body.side'],
      ['a lower-case symbol', buildRequest({ symbol: 'btcusdt' }), 'body.symbol'],
      ['a clientOrderId with a space', buildRequest({ clientOrderId: 'a b' }), 'body.clientOrderId'],
    ];
    it.each(cases)('%s', async (_label, body, path) => {
      const res = await check(t.app, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('VALIDATION_FAILED');
      expect(res.json().details.map((d: { path: string }) => d.path)).toContain(path);
    });

    it('an unknown field is named in the message', async () => {
      const res = await check(t.app, buildRequest({ price: 1 }));
      expect(res.json().message).toContain('price');
    });
  });

  describe('auth', () => {
    it('without a key, then 401', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/pretrade-check', payload: buildRequest() });
      expect(res.statusCode).toBe(401);
    });
    it('with a read-only key, then 403', async () => {
      const res = await check(t.app, buildRequest(), TEST_KEYS.read);
      expect(res.statusCode).toBe(403);
    });
    it('GET /policy with a pretrade-only key, then 403', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/policy', headers: bearer(TEST_KEYS.pretrade) });
      expect(res.statusCode).toBe(403);
    });
  });

  describe('idempotency (memory store)', () => {
    it('when the same clientOrderId comes with the same body, then the stored decision is returned', async () => {
      await publishHeatmap(t);
      const first = await check(t.app, buildRequest({ clientOrderId: 'c-1', accountId: 'acct-1' }));
      clock.advance(1_000);
      // reduceOnly defaults to false: sending it explicitly is the same request.
      const again = await check(t.app, buildRequest({ clientOrderId: 'c-1', accountId: 'acct-1', reduceOnly: false }));
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(first.json());
      expect(again.headers['idempotent-replay']).toBe('true');
      expect(first.headers['idempotent-replay']).toBeUndefined();
    });

    it('when the same clientOrderId comes with another body, then 409 IDEMPOTENCY_CONFLICT', async () => {
      await publishHeatmap(t);
      await check(t.app, buildRequest({ clientOrderId: 'c-2' }));
      const res = await check(t.app, buildRequest({ clientOrderId: 'c-2', quantity: 2 }));
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: 'IDEMPOTENCY_CONFLICT', details: [{ path: 'body.clientOrderId' }] });
    });

    it('when two accounts use the same clientOrderId, then each gets its own decision', async () => {
      await publishHeatmap(t);
      const a = await check(t.app, buildRequest({ clientOrderId: 'c-3', accountId: 'a' }));
      const b = await check(t.app, buildRequest({ clientOrderId: 'c-3', accountId: 'b', quantity: 0.2 }));
      expect(b.statusCode).toBe(200);
      expect(b.json().decisionId).not.toBe(a.json().decisionId);
    });

    it('when two API keys use the same clientOrderId, then neither replays nor learns of the other\'s decision', async () => {
      await publishHeatmap(t);
      const a = await check(t.app, buildRequest({ clientOrderId: 'c-4', quantity: 0.1 }), TEST_KEYS.pretrade);
      const sameBody = await check(t.app, buildRequest({ clientOrderId: 'c-4', quantity: 0.1 }), TEST_KEYS.all);
      expect(sameBody.statusCode).toBe(200);
      expect(sameBody.headers['idempotent-replay']).toBeUndefined();
      expect(sameBody.json().decisionId).not.toBe(a.json().decisionId);
      // B's earlier use of an id does not make A's own use of it a conflict.
      await check(t.app, buildRequest({ clientOrderId: 'c-5', quantity: 0.2 }), TEST_KEYS.all);
      expect((await check(t.app, buildRequest({ clientOrderId: 'c-5', quantity: 0.3 }), TEST_KEYS.pretrade)).statusCode).toBe(200);
      const conflictForB = await check(t.app, buildRequest({ clientOrderId: 'c-4', quantity: 0.5 }), TEST_KEYS.all);
      expect(conflictForB.statusCode).toBe(409);
      expect(conflictForB.body).toContain(sameBody.json().decisionId);
      expect(conflictForB.body).not.toContain(a.json().decisionId);
    });
  });

  describe('audit: GET /decisions/:decisionId', () => {
    it('when a decision was made, then its record holds the request, decision, caller key id and versions', async () => {
      const snap = await publishHeatmap(t);
      const made = (await check(t.app, buildRequest({ strategyId: 's-1' }))).json();
      const res = await t.app.inject({ method: 'GET', url: `/decisions/${made.decisionId}`, headers: bearer(TEST_KEYS.read) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        decisionId: made.decisionId,
        evaluatedAt: made.evaluatedAt,
        keyId: 'pretrader',
        instanceId: t.config.instanceId,
        request: { ...buildRequest({ strategyId: 's-1' }), reduceOnly: false },
        decision: made,
        heatmapVersion: snap.version,
        policyVersion: t.config.policy.version,
      });
      expect(res.body).not.toContain(TEST_KEYS.pretrade);
    });

    it('when a decision was made, then its record carries the answer byte for byte, in the record schema field order', async () => {
      await publishHeatmap(t);
      const answer = await check(t.app, buildRequest({ clientOrderId: 'rec-1' }));
      const res = await t.app.inject({ method: 'GET', url: `/decisions/${answer.json().decisionId}`, headers: bearer(TEST_KEYS.read) });
      expect(res.body).toContain(`,"decision":${answer.body},"heatmapVersion":`);
      expect(Object.keys(res.json())).toEqual(Object.keys(AuditRecordSchema.shape));
    });

    it('when the id is unknown, then 404; when it is not a UUID, then 400', async () => {
      const unknown = await t.app.inject({
        method: 'GET',
        url: '/decisions/00000000-0000-4000-8000-000000000000',
        headers: bearer(TEST_KEYS.read),
      });
      expect(unknown.statusCode).toBe(404);
      const bad = await t.app.inject({ method: 'GET', url: '/decisions/nope', headers: bearer(TEST_KEYS.read) });
      expect(bad.statusCode).toBe(400);
    });
  });
});
