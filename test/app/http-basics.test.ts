import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { z } from 'zod';
import { bearer, buildTestApp, TEST_KEYS, type TestApp } from '../helpers/app.js';

describe('HTTP basics: auth, errors, health', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp({
      env: { BODY_LIMIT_BYTES: '2048' },
      beforeReady: (app) => {
        app.post(
          '/probe/echo',
          {
            config: { scope: 'pretrade' },
            schema: { body: z.object({ qty: z.number().positive(), side: z.enum(['buy', 'sell']) }).strict() },
          },
          async (req) => ({ ok: true, keyId: req.principal?.keyId, body: req.body }),
        );
        app.get('/probe/any-key', async () => ({ ok: true }));
        app.get('/probe/boom', { config: { scope: 'read' } }, async () => {
          throw new Error('secret internal detail: db password is hunter2');
        });
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('when /health/live is called without a key, then it answers 200', async () => {
    const res = await request(t.app.server).get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('when no heatmap exists yet, then /health/ready is 200 (the gate can answer: it rejects) and /health/status names each stale symbol', async () => {
    const ready = await request(t.app.server).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', instanceId: t.config.instanceId });
    const status = await request(t.app.server).get('/health/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ status: 'degraded', ready: true, startup: 'started', policyVersion: t.config.policy.version });
    expect(status.body.degraded).toEqual(expect.arrayContaining(['heatmap:BTCUSDT', 'heatmap:ETHUSDT']));
    expect(status.body.degraded).not.toContain('store');
    expect(status.body.checks).toEqual(expect.arrayContaining([{ name: 'store', ok: true }, { name: 'startup', ok: true }]));
  });

  it('when a private route is called without a key, then it is 401 with a JSON body', async () => {
    const res = await request(t.app.server).get('/probe/any-key');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, error: 'UNAUTHORIZED' });
    expect(res.body.requestId).toEqual(expect.any(String));
  });

  it('when the key is unknown, then it is 401', async () => {
    const res = await request(t.app.server).get('/probe/any-key').set(bearer('not-a-real-key-000'));
    expect(res.status).toBe(401);
  });

  it('when the key lacks the route scope, then it is 403 naming the scope', async () => {
    const res = await request(t.app.server).post('/probe/echo').set(bearer(TEST_KEYS.read)).send({ qty: 1, side: 'buy' });
    expect(res.status).toBe(403);
    expect(res.body.message).toContain('pretrade');
  });

  it('when the key has the scope, then the handler runs and sees the key id, never the key', async () => {
    const res = await request(t.app.server).post('/probe/echo').set(bearer(TEST_KEYS.pretrade)).send({ qty: 1, side: 'buy' });
    expect(res.status).toBe(200);
    expect(res.body.keyId).toBe('pretrader');
  });

  it('when the body violates the schema, then it is 400 with each field path and what was expected', async () => {
    const res = await request(t.app.server)
      .post('/probe/echo')
      .set(bearer(TEST_KEYS.pretrade))
      .send({ qty: -1, side: 'hold', extra: true });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
    const paths = (res.body.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['body.qty', 'body.side']));
    expect(JSON.stringify(res.body.details)).toContain('extra');
  });

  it('when the body is not JSON, then it is 400, not 500', async () => {
    const res = await request(t.app.server)
      .post('/probe/echo')
      .set(bearer(TEST_KEYS.pretrade))
      .set('content-type', 'application/json')
      .send('{"qty": 1,');
    expect(res.status).toBe(400);
  });

  it('when the body is larger than the limit, then it is 413', async () => {
    const res = await request(t.app.server)
      .post('/probe/echo')
      .set(bearer(TEST_KEYS.pretrade))
      .send({ qty: 1, side: 'buy', pad: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('when the route does not exist, then it is a JSON 404', async () => {
    const res = await request(t.app.server).get('/nope').set(bearer(TEST_KEYS.read));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'NOT_FOUND' });
  });

  it('when a handler fails, then it is 500 with a generic message and request id, and no internals', async () => {
    const res = await request(t.app.server).get('/probe/boom').set(bearer(TEST_KEYS.read)).set('x-request-id', 'req-123');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, error: 'INTERNAL', message: 'Internal error', requestId: 'req-123' });
    expect(res.headers['x-request-id']).toBe('req-123');
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it('when requests carry keys, then no key ever reaches the logs', async () => {
    await request(t.app.server).get('/probe/any-key').set(bearer(TEST_KEYS.admin));
    await request(t.app.server).get('/probe/any-key').set(bearer('wrong-key-value-9999'));
    const logs = t.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    for (const k of [...Object.values(TEST_KEYS), 'wrong-key-value-9999']) expect(logs).not.toContain(k);
  });

  it('when /openapi.json and /docs are requested without a key, then both are served', async () => {
    const doc = await request(t.app.server).get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const docs = await request(t.app.server).get('/docs/').redirects(1);
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
  });
});
