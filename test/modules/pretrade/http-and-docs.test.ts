import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { generateOpenApiDocument } from '../../../src/openapi.js';
import { PretradeDecisionSchema } from '../../../src/modules/pretrade/schemas.js';
import { bearer, buildTestApp, manualClock, TEST_KEYS, type TestApp } from '../../helpers/app.js';
import { buildRequest, NOW, publishHeatmap } from './helpers.js';

describe('the pre-trade routes over a real HTTP socket (supertest)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({ clock: manualClock(NOW) });
    await publishHeatmap(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('when a valid order is posted, then a JSON decision comes back with a request id', async () => {
    const res = await request(t.app.server).post('/pretrade-check').set(bearer(TEST_KEYS.pretrade)).send(buildRequest({ quantity: 0.2 }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(PretradeDecisionSchema.parse(res.body).decision).toBe('APPROVE');
  });

  it('when the body is not JSON, then 400 and no decision', async () => {
    const res = await request(t.app.server)
      .post('/pretrade-check')
      .set(bearer(TEST_KEYS.pretrade))
      .set('content-type', 'application/json')
      .send('{"symbol": "BTCUSDT",');
    expect(res.status).toBe(400);
    expect(res.body.decision).toBeUndefined();
  });

  it('when an idempotent order is retried, then the replay is marked and identical', async () => {
    const body = buildRequest({ quantity: 0.3, clientOrderId: 'http-1' });
    const first = await request(t.app.server).post('/pretrade-check').set(bearer(TEST_KEYS.pretrade)).send(body);
    const again = await request(t.app.server).post('/pretrade-check').set(bearer(TEST_KEYS.pretrade)).send(body);
    expect(again.headers['idempotent-replay']).toBe('true');
    expect(again.body).toEqual(first.body);
  });
});

describe('OpenAPI document for the pre-trade routes', () => {
  interface Doc {
    paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
    components: { schemas: Record<string, { required?: string[]; additionalProperties?: unknown; properties?: Record<string, unknown> }> };
  }
  let doc: Doc;
  beforeAll(async () => {
    doc = (await generateOpenApiDocument()) as Doc;
  });

  it('when generated, then every pre-trade route is documented with its success and error responses', () => {
    expect(Object.keys(doc.paths['/pretrade-check']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '409', '503']),
    );
    // A batch answers per order (a decision or an error each), so it has no 409 of its own.
    const batch = Object.keys(doc.paths['/pretrade-check/batch']?.post?.responses ?? {});
    expect(batch).toEqual(expect.arrayContaining(['200', '400', '401', '403', '413', '429', '503']));
    expect(batch).not.toContain('409');
    expect(Object.keys(doc.paths['/decisions/{decisionId}']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404']));
    expect(doc.paths['/policy']?.get).toBeDefined();
    expect(Object.keys(doc.paths['/admin/trading-state'] ?? {})).toEqual(expect.arrayContaining(['get', 'put']));
  });

  it('when generated, then the request and decision are named components, and the request refuses unknown fields', () => {
    for (const name of ['PretradeRequest', 'PretradeDecision', 'Reason', 'NearestCluster', 'DecisionRecord', 'Policy', 'TradingStateView']) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
    const req = doc.components.schemas.PretradeRequestInput ?? doc.components.schemas.PretradeRequest;
    expect(req?.required).toEqual(expect.arrayContaining(['symbol', 'side', 'orderType']));
    expect(req?.additionalProperties).toBe(false);
    expect(Object.keys(doc.components.schemas.PretradeDecision?.properties ?? {})).toEqual(
      expect.arrayContaining(['decision', 'approvedQuantity', 'reasons', 'warnings', 'riskScore', 'policyVersion', 'decisionId']),
    );
  });
});
