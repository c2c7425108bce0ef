import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { PretradeDecisionSchema } from '../../../src/modules/pretrade/schemas.js';
import { bearer, manualClock, TEST_KEYS } from '../../helpers/app.js';
import { buildBook, clusterAt } from '../../domain/pretrade/factories.js';
import { buildRequest, gateForSuite, NOW, publishHeatmap } from './helpers.js';

/**
 * The gate's HTTP contract over a real socket (supertest) on the Redis store: decisions of
 * every kind, the kill switch, validation, auth, idempotency, batch and the audit lookup.
 */
describe('the pre-trade gate over HTTP, on the Redis store', () => {
  const clock = manualClock(NOW);
  const app = gateForSuite({ clock, store: 'redis' });
  const post = (body: unknown, key: string = TEST_KEYS.pretrade) =>
    request(app().app.server).post('/pretrade-check').set(bearer(key)).send(body as object);
  const setState = (body: unknown) => request(app().app.server).put('/admin/trading-state').set(bearer(TEST_KEYS.admin)).send(body as object);

  beforeEach(async () => {
    const reset = await setState({ state: 'ACTIVE', reason: 'test reset' });
    expect(reset.status).toBe(200);
    for (const symbol of ['BTCUSDT', 'ETHUSDT']) expect((await setState({ symbol, state: 'ACTIVE', reason: 'test reset' })).status).toBe(200);
  });

  describe('when the order is valid, then every decision kind is a 200 with its reason codes', () => {
    const cases: { name: string; setup: () => Promise<unknown>; body: Record<string, unknown>; decision: string; code: string | null }[] = [
      { name: 'a small order in a calm market is approved', setup: async () => undefined, body: { quantity: 0.2 }, decision: 'APPROVE', code: null },
      {
        name: 'an order too large for a thin book is resized (SLIPPAGE_LIMIT)',
        setup: () => publishHeatmap(app(), { orderBook: buildBook({ ts: NOW - 1_000, size: 0.1 }) }),
        body: { quantity: 5 },
        decision: 'RESIZE',
        code: 'SLIPPAGE_LIMIT',
      },
      {
        name: 'a new position next to a major cluster is rejected (NO_TRADE_BUFFER)',
        setup: () => publishHeatmap(app(), { clusters: [clusterAt('long', 10)] }),
        body: { quantity: 0.2 },
        decision: 'REJECT',
        code: 'NO_TRADE_BUFFER',
      },
      {
        name: 'an order above the max notional is rejected (MAX_NOTIONAL)',
        setup: async () => undefined,
        body: { quantity: undefined, notional: 5_000_000 },
        decision: 'REJECT',
        code: 'MAX_NOTIONAL',
      },
      {
        name: 'a stale heatmap rejects new risk (HEATMAP_STALE)',
        setup: async () => clock.advance(app().config.market.heatmapMaxAgeMs + 1),
        body: { quantity: 0.2 },
        decision: 'REJECT',
        code: 'HEATMAP_STALE',
      },
    ];
    it.each(cases)('$name', async ({ setup, body, decision, code }) => {
      await setup();
      const res = await post(buildRequest(body));
      expect(res.status).toBe(200);
      const d = PretradeDecisionSchema.strict().parse(res.body);
      expect(d.decision).toBe(decision);
      if (code === null) expect(d.reasons).toEqual([]);
      else expect(d.reasons.map((r) => r.code)).toContain(code);
      if (decision === 'APPROVE') expect(d.approvedQuantity).toBe(d.requestedQuantity);
      if (decision === 'RESIZE') {
        expect(d.approvedQuantity).toBeGreaterThan(0);
        expect(d.approvedQuantity).toBeLessThan(d.requestedQuantity);
      }
      if (decision === 'REJECT') expect(d.approvedQuantity).toBe(0);
      expect(res.headers['x-request-id']).toBeTruthy();
    });
  });

  describe('when the kill switch is set, then each state applies: REDUCING lets reduce-only through, HALTED stops everything', () => {
    const cases = [
      { state: 'ACTIVE', scope: 'global', newRisk: 'APPROVE', code: null },
      { state: 'REDUCING', scope: 'global', newRisk: 'REJECT', code: 'TRADING_REDUCING' },
      { state: 'HALTED', scope: 'global', newRisk: 'REJECT', code: 'TRADING_HALTED' },
      { state: 'REDUCING', scope: 'BTCUSDT', newRisk: 'REJECT', code: 'TRADING_REDUCING' },
      { state: 'HALTED', scope: 'BTCUSDT', newRisk: 'REJECT', code: 'TRADING_HALTED' },
    ] as const;
    it.each(cases)('$state ($scope)', async ({ state, scope, newRisk, code }) => {
      const put = await setState({ ...(scope === 'global' ? {} : { symbol: scope }), state, reason: 'supertest' });
      expect(put.status).toBe(200);
      const shown = scope === 'global' ? put.body.global : put.body.symbols[scope];
      expect(shown).toMatchObject({ state, reason: 'supertest', updatedBy: 'admin' });

      const opening = await post(buildRequest({ quantity: 0.2 }));
      expect(opening.body.decision).toBe(newRisk);
      if (code) expect(opening.body.reasons.map((r: { code: string }) => r.code)).toContain(code);
      const reducing = await post(buildRequest({ quantity: 0.2, side: 'sell', reduceOnly: true }));
      expect(reducing.body.decision).toBe(state === 'HALTED' ? 'REJECT' : 'APPROVE');
    });
  });

  describe('when the request is wrong, then a 4xx says what is wrong and nothing is decided', () => {
    const cases = [
      { name: 'a missing symbol', body: { side: 'buy', quantity: 1, orderType: 'market' }, status: 400, path: 'body.symbol' },
      { name: 'a zero quantity', body: buildRequest({ quantity: 0 }), status: 400, path: 'body.quantity' },
      { name: 'a non-finite leverage', body: buildRequest({ leverage: 'Infinity' }), status: 400, path: 'body.leverage' },
      { name: 'a limit price on a market order', body: buildRequest({ limitPrice: 1 }), status: 400, path: 'body.limitPrice' },
      { name: 'an unknown order type', body: buildRequest({ orderType: 'stop' }), status: 400, path: 'body.orderType' },
    ];
    it.each(cases)('$name -> $status naming $path', async ({ body, status, path }) => {
      const res = await post(body);
      expect(res.status).toBe(status);
      expect(res.body.error).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { path: string }) => d.path)).toContain(path);
      expect(res.body.decision).toBeUndefined();
    });

    it('no key -> 401, a key without the pretrade scope -> 403, an unknown key -> 401', async () => {
      expect((await request(app().app.server).post('/pretrade-check').send(buildRequest())).status).toBe(401);
      expect((await post(buildRequest(), TEST_KEYS.read)).status).toBe(403);
      expect((await post(buildRequest(), 'not-a-configured-key-1')).status).toBe(401);
    });
  });

  describe('around the decision', () => {
    it('when a clientOrderId is reused, then the same body replays the decision and another body is a 409', async () => {
      const id = `st-${Math.random().toString(36).slice(2)}`;
      const first = await post(buildRequest({ quantity: 0.3, clientOrderId: id }));
      const again = await post(buildRequest({ quantity: 0.3, clientOrderId: id }));
      expect(again.status).toBe(200);
      expect(again.headers['idempotent-replay']).toBe('true');
      expect(again.body.decisionId).toBe(first.body.decisionId);
      const other = await post(buildRequest({ quantity: 0.4, clientOrderId: id }));
      expect(other.status).toBe(409);
      expect(other.body.error).toBe('IDEMPOTENCY_CONFLICT');
    });

    it('when a decision was made, then GET /decisions/:id returns its audit record with the request and versions', async () => {
      const made = await post(buildRequest({ quantity: 0.25, accountId: 'acct-7', strategyId: 'mm-2' }));
      const rec = await request(app().app.server).get(`/decisions/${made.body.decisionId}`).set(bearer(TEST_KEYS.read));
      expect(rec.status).toBe(200);
      expect(rec.body).toMatchObject({
        decisionId: made.body.decisionId,
        keyId: 'pretrader',
        request: { accountId: 'acct-7', strategyId: 'mm-2', quantity: 0.25 },
        decision: { decision: made.body.decision },
        heatmapVersion: made.body.heatmapVersion,
        policyVersion: made.body.policyVersion,
      });
    });

    it('when a batch is posted, then each order gets its own decision in order', async () => {
      const res = await request(app().app.server)
        .post('/pretrade-check/batch')
        .set(bearer(TEST_KEYS.pretrade))
        .send({ orders: [buildRequest({ quantity: 0.1 }), buildRequest({ symbol: 'DOGEUSDT' })] });
      expect(res.status).toBe(200);
      expect(res.body.results.map((r: { decision: string }) => r.decision)).toEqual(['APPROVE', 'REJECT']);
      expect(res.body.results[1].reasons[0].code).toBe('UNKNOWN_SYMBOL');
    });
  });
});
