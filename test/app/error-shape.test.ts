import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { bearer, buildTestApp, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { portOf, rawExchange, rawGet, type RawResponse } from './raw-http.js';

/** The one error shape, with the request id also in the header, and nosniff. */
function expectErrorShape(res: RawResponse | request.Response, statusCode: number, error: string): void {
  const status = 'statusCode' in res ? res.statusCode : res.status;
  expect(status).toBe(statusCode);
  expect(res.body).toEqual({ statusCode, error, message: expect.any(String), requestId: expect.any(String) });
  expect((res.body as { requestId: string }).requestId).toBe(res.headers['x-request-id']);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe('one error shape everywhere, from the router and Node too', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await buildTestApp({ env: { HTTP_MAX_HEADER_BYTES: '4096', HTTP_MAX_URL_LENGTH: '1024' } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = portOf(t.app);
  });
  afterAll(async () => {
    await t.close();
  });

  it('when the URL is longer than HTTP_MAX_URL_LENGTH, then it is 414 URI_TOO_LONG', async () => {
    expectErrorShape(await rawExchange(port, rawGet(`/health/live?pad=${'x'.repeat(2000)}`)), 414, 'URI_TOO_LONG');
  });

  it('when a path parameter is longer than the router allows, then it is 414 URI_TOO_LONG', async () => {
    const res = await rawExchange(port, rawGet(`/heatmap/${'A'.repeat(300)}`, [`Authorization: Bearer ${TEST_KEYS.read}`]));
    expectErrorShape(res, 414, 'URI_TOO_LONG');
  });

  it('when the request headers exceed HTTP_MAX_HEADER_BYTES, then it is 431 HEADERS_TOO_LARGE', async () => {
    expectErrorShape(await rawExchange(port, rawGet('/health/live', [`X-Pad: ${'y'.repeat(8000)}`])), 431, 'HEADERS_TOO_LARGE');
  });

  it('when the request line is not HTTP, then it is 400 BAD_REQUEST', async () => {
    expectErrorShape(await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n'), 400, 'BAD_REQUEST');
  });

  it('when a path segment is not valid percent-encoding, then it is 400 BAD_REQUEST', async () => {
    const res = await rawExchange(port, rawGet('/heatmap/%zz', [`Authorization: Bearer ${TEST_KEYS.read}`]));
    expectErrorShape(res, 400, 'BAD_REQUEST');
  });

  it('when the body is not JSON, then it is 400 BAD_REQUEST in the same shape', async () => {
    const res = await request(t.app.server)
      .post('/pretrade-check')
      .set(bearer(TEST_KEYS.pretrade))
      .set('content-type', 'application/json')
      .send('{"symbol": "BTCUSDT",');
    expectErrorShape(res, 400, 'BAD_REQUEST');
  });

  it('when a key is missing or unknown, then the 401 carries WWW-Authenticate: Bearer and closes the connection', async () => {
    const missing = await request(t.app.server).get('/symbols');
    expectErrorShape(missing, 401, 'UNAUTHORIZED');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer realm="liq-gate"$/);
    expect(missing.headers.connection).toBe('close');
    const unknown = await request(t.app.server).get('/symbols').set(bearer('not-a-real-key-000'));
    expect(unknown.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    expect(unknown.headers.connection).toBe('close');
  });

  it('when the key lacks the scope, then the 403 names it in WWW-Authenticate and closes the connection', async () => {
    const res = await request(t.app.server).get('/symbols').set(bearer(TEST_KEYS.pretrade));
    expectErrorShape(res, 403, 'FORBIDDEN');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="liq-gate", error="insufficient_scope", scope="read"');
    expect(res.headers.connection).toBe('close');
  });

  it('when a request carries two Authorization headers, then it is 400 even if both keys are valid', async () => {
    const res = await rawExchange(
      port,
      rawGet('/symbols', [`Authorization: Bearer ${TEST_KEYS.read}`, `Authorization: Bearer ${TEST_KEYS.all}`]),
    );
    expectErrorShape(res, 400, 'BAD_REQUEST');
    expect((res.body as { message: string }).message).toContain('one Authorization header');
  });

  it('when a request succeeds or hits an unknown route, then it carries nosniff too', async () => {
    const ok = await request(t.app.server).get('/symbols').set(bearer(TEST_KEYS.read));
    expect(ok.status).toBe(200);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expectErrorShape(await request(t.app.server).get('/nope').set(bearer(TEST_KEYS.read)), 404, 'NOT_FOUND');
  });
});
