import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { BatchResponseSchema } from '../../../src/modules/pretrade/schemas.js';
import { auditWritten } from '../../helpers/observe.js';
import { buildRequest, codes, check, checkBatch, getTradingState, NOW, publishHeatmap, putTradingState } from './helpers.js';

describe('trading state (kill switch)', () => {
  let t: TestApp;
  const clock = manualClock(NOW);

  beforeEach(async () => {
    clock.set(NOW);
    t = await buildTestApp({ clock });
    await publishHeatmap(t);
    await publishHeatmap(t, { symbol: 'ETHUSDT' });
  });
  afterEach(async () => {
    await t.close();
  });

  it('when nothing was ever set, then every scope is ACTIVE with no author', async () => {
    const res = await getTradingState(t.app);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      global: { state: 'ACTIVE', reason: null, updatedBy: null, updatedAt: null },
      symbols: {
        BTCUSDT: { state: 'ACTIVE', reason: null, updatedBy: null, updatedAt: null },
        ETHUSDT: { state: 'ACTIVE', reason: null, updatedBy: null, updatedAt: null },
      },
      loaded: true,
      initialised: true,
      haltFile: null,
      effective: { BTCUSDT: 'ACTIVE', ETHUSDT: 'ACTIVE' },
    });
  });

  it('when trading is halted globally, then every order is rejected TRADING_HALTED, reduce-only included, and GET shows who and when', async () => {
    const put = await putTradingState(t.app, { state: 'HALTED', reason: 'exchange incident' });
    expect(put.statusCode).toBe(200);
    const expected = { state: 'HALTED', reason: 'exchange incident', updatedBy: 'admin', updatedAt: new Date(NOW).toISOString() };
    expect(put.json().global).toEqual(expected);

    clock.advance(60_000); // the setting stays until changed, not for a while
    await publishHeatmap(t, { asOf: clock() - 1_000 });
    const risky = await check(t.app, buildRequest());
    expect(risky.json().decision).toBe('REJECT');
    expect(codes(risky.json())).toContain('TRADING_HALTED');
    const closing = await check(t.app, buildRequest({ side: 'sell', reduceOnly: true }));
    expect(closing.json().decision).toBe('REJECT');
    expect(codes(closing.json())).toEqual(['TRADING_HALTED']);

    expect((await getTradingState(t.app)).json().global).toEqual(expected);
  });

  it('when one symbol is REDUCING, then only that symbol rejects risk-adding orders TRADING_REDUCING', async () => {
    await putTradingState(t.app, { symbol: 'ETHUSDT', state: 'REDUCING', reason: 'delisting' });
    const eth = await check(t.app, buildRequest({ symbol: 'ETHUSDT' }));
    expect(eth.json().decision).toBe('REJECT');
    expect(codes(eth.json())).toContain('TRADING_REDUCING');
    const btc = await check(t.app, buildRequest({ quantity: 0.1 }));
    expect(btc.json().decision).toBe('APPROVE');

    await putTradingState(t.app, { symbol: 'ETHUSDT', state: 'ACTIVE', reason: 'relisted' });
    expect((await check(t.app, buildRequest({ symbol: 'ETHUSDT', quantity: 0.1 }))).json().decision).toBe('APPROVE');
  });

  it('when the symbol is not configured, then 400 naming body.symbol and nothing changes', async () => {
    const res = await putTradingState(t.app, { symbol: 'DOGEUSDT', state: 'HALTED', reason: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().details[0].path).toBe('body.symbol');
    expect(Object.keys((await getTradingState(t.app)).json().symbols)).toEqual(['BTCUSDT', 'ETHUSDT']);
  });

  it('when the reason is missing or the state unknown, then 400 naming the field', async () => {
    const noReason = await putTradingState(t.app, { state: 'HALTED' });
    expect(noReason.json().details.map((d: { path: string }) => d.path)).toContain('body.reason');
    const badState = await putTradingState(t.app, { state: 'PAUSED', reason: 'x' });
    expect(badState.json().details.map((d: { path: string }) => d.path)).toContain('body.state');
  });

  it('when the caller has no admin scope, then 403 for both GET and PUT', async () => {
    expect((await putTradingState(t.app, { state: 'HALTED', reason: 'x' }, TEST_KEYS.pretrade)).statusCode).toBe(403);
    expect((await getTradingState(t.app, TEST_KEYS.read)).statusCode).toBe(403);
  });
});

describe('POST /pretrade-check/batch', () => {
  let t: TestApp;
  const clock = manualClock(NOW);

  beforeEach(async () => {
    clock.set(NOW);
    t = await buildTestApp({ clock, env: { PRETRADE_BATCH_MAX: '3' } });
    await publishHeatmap(t);
  });
  afterEach(async () => {
    await t.close();
  });

  it('when orders are valid, then each gets its own decision, in order, each retrievable by id', async () => {
    const res = await checkBatch(t.app, [buildRequest({ quantity: 0.1 }), buildRequest({ symbol: 'DOGEUSDT' }), buildRequest({ side: 'sell' })]);
    expect(res.statusCode).toBe(200);
    expect(BatchResponseSchema.strict().parse(res.json())).toEqual(res.json());
    const results = res.json().results;
    expect(results.map((r: { decision: string; symbol: string }) => [r.symbol, r.decision])).toEqual([
      ['BTCUSDT', 'APPROVE'],
      ['DOGEUSDT', 'REJECT'],
      ['BTCUSDT', 'APPROVE'],
    ]);
    expect(new Set(results.map((r: { decisionId: string }) => r.decisionId)).size).toBe(3);
    const rec = await t.app.inject({ method: 'GET', url: `/decisions/${results[1].decisionId}`, headers: bearer(TEST_KEYS.read) });
    expect(rec.json().decision.reasons[0].code).toBe('UNKNOWN_SYMBOL');
  });

  it('when there are more orders than PRETRADE_BATCH_MAX, or none, then 400 naming body.orders', async () => {
    const tooMany = await checkBatch(t.app, [buildRequest(), buildRequest(), buildRequest(), buildRequest()]);
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().details[0].path).toBe('body.orders');
    expect((await checkBatch(t.app, [])).statusCode).toBe(400);
  });

  it('when one order is invalid, then the whole batch is refused with 400 naming its index and field', async () => {
    const res = await checkBatch(t.app, [buildRequest(), buildRequest({ quantity: -2 })]);
    expect(res.statusCode).toBe(400);
    expect(res.json().details.map((d: { path: string }) => d.path)).toContain('body.orders.1.quantity');
  });

  it('when two orders share an idempotency key, then 400 naming the repeat', async () => {
    const res = await checkBatch(t.app, [buildRequest({ clientOrderId: 'x' }), buildRequest({ clientOrderId: 'x', quantity: 2 })]);
    expect(res.statusCode).toBe(400);
    expect(res.json().details.map((d: { path: string }) => d.path)).toContain('body.orders.1.clientOrderId');
  });

  it('when an order reuses a clientOrderId with another body, then that order gets an error and the others their decisions, each audited decision answered', async () => {
    const used = (await check(t.app, buildRequest({ clientOrderId: 'used' }))).json();
    const first = await checkBatch(t.app, [buildRequest({ clientOrderId: 'b-0' }), buildRequest({ clientOrderId: 'used', quantity: 3 })]);
    expect(first.statusCode).toBe(200);
    const [decided, refused] = first.json().results;
    expect(decided).toMatchObject({ clientOrderId: 'b-0', decision: 'APPROVE' });
    expect(refused).toEqual({
      clientOrderId: 'used',
      error: 'IDEMPOTENCY_CONFLICT',
      message: expect.stringContaining(used.decisionId),
      decisionId: used.decisionId,
    });
    expect(BatchResponseSchema.parse(first.json()).results).toHaveLength(2);

    await auditWritten(t.app);
    const audited = await t.app.inject({ method: 'GET', url: `/decisions/${decided.decisionId}`, headers: bearer(TEST_KEYS.read) });
    expect(audited.json().decision).toEqual(decided); // the audited decision is the one the client got

    const retry = await checkBatch(t.app, [buildRequest({ clientOrderId: 'b-0' }), buildRequest({ clientOrderId: 'used' })]);
    expect(retry.json().results.map((r: { decisionId: string }) => r.decisionId)).toEqual([decided.decisionId, used.decisionId]);
  });
});
