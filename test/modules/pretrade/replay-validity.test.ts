import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { PretradeDecisionSchema } from '../../../src/modules/pretrade/schemas.js';
import { bearer, manualClock, TEST_KEYS } from '../../helpers/app.js';
import { clusterAt } from '../../domain/pretrade/factories.js';
import { buildRequest, gateForSuite, NOW, publishHeatmap } from './helpers.js';

const VALID_MS = 2_000;

/** Replays do not outlive the risk picture: over a real socket, on the Redis store. */
describe('decision validity and idempotent replays', () => {
  const clock = manualClock(NOW);
  const app = gateForSuite({ clock, store: 'redis', env: { DECISION_VALID_MS: String(VALID_MS) } });
  let n = 0;
  const freshId = () => `rv-${(n += 1)}`;
  const post = (body: unknown) => request(app().app.server).post('/pretrade-check').set(bearer(TEST_KEYS.pretrade)).send(body as object);
  const batch = (orders: unknown[]) => request(app().app.server).post('/pretrade-check/batch').set(bearer(TEST_KEYS.pretrade)).send({ orders });
  const setState = (state: string) =>
    request(app().app.server).put('/admin/trading-state').set(bearer(TEST_KEYS.admin)).send({ state, reason: 'replay test' });

  it('when a decision is made, then it carries validUntil = evaluatedAt + DECISION_VALID_MS, and every timestamp is ISO 8601', async () => {
    const res = await post(buildRequest({ quantity: 0.1 }));
    expect(res.status).toBe(200);
    const d = PretradeDecisionSchema.strict().parse(res.body);
    expect(d.evaluatedAt).toBe(new Date(NOW).toISOString());
    expect(d.validUntil).toBe(new Date(NOW + VALID_MS).toISOString());
    expect(d.heatmapAsOf).toBe(new Date(NOW - 1_000).toISOString());
  });

  it('when an approval is replayed before validUntil under the same trading state, then it is the stored decision', async () => {
    const body = buildRequest({ quantity: 0.1, clientOrderId: freshId() });
    const first = await post(body);
    clock.advance(VALID_MS);
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replay']).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('when an approval is replayed past validUntil, then 409 DECISION_EXPIRED naming it, never the old APPROVE', async () => {
    const body = buildRequest({ quantity: 0.1, clientOrderId: freshId() });
    const first = await post(body);
    expect(first.body.decision).toBe('APPROVE');
    clock.advance(VALID_MS + 1);
    const late = await post(body);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: 'DECISION_EXPIRED', details: [{ path: 'body.clientOrderId' }] });
    expect(late.body.message).toContain(first.body.decisionId);
    expect(late.body.message).toContain(first.body.validUntil);
  });

  it('when the trading state changed since an approval (even back to ACTIVE), then its replay is 409 DECISION_EXPIRED', async () => {
    expect((await setState('ACTIVE')).status).toBe(200);
    const body = buildRequest({ quantity: 0.1, clientOrderId: freshId() });
    const first = await post(body);
    expect(first.body.decision).toBe('APPROVE');
    clock.advance(1);
    expect((await setState('HALTED')).status).toBe(200);
    clock.advance(1);
    expect((await setState('ACTIVE')).status).toBe(200);
    const again = await post(body);
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('DECISION_EXPIRED');
    expect(again.body.message).toContain('trading state changed');
  });

  it('when a REJECT is replayed past validUntil, then it is replayed: it allowed nothing', async () => {
    await publishHeatmap(app(), { clusters: [clusterAt('long', 10)] });
    const body = buildRequest({ quantity: 0.1, clientOrderId: freshId() });
    const first = await post(body);
    expect(first.body.decision).toBe('REJECT');
    clock.advance(VALID_MS * 10);
    await publishHeatmap(app(), { asOf: clock() - 1_000 });
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
  });

  it('when a batch holds an expired approval, then that order gets a DECISION_EXPIRED entry and the others their decisions', async () => {
    const stale = buildRequest({ quantity: 0.1, clientOrderId: freshId() });
    const first = await post(stale);
    clock.advance(VALID_MS + 1);
    const res = await batch([buildRequest({ quantity: 0.1, clientOrderId: freshId() }), stale]);
    expect(res.status).toBe(200);
    expect(res.body.results[0].decision).toBe('APPROVE');
    expect(res.body.results[1]).toMatchObject({
      clientOrderId: stale.clientOrderId,
      error: 'DECISION_EXPIRED',
      decisionId: first.body.decisionId,
    });
  });
});
