import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildTestApp, TEST_KEYS } from '../helpers/app.js';
import { portOf } from './raw-http.js';

/** A connection whose request is sent in two parts: the headers' last line is held back. */
function splitRequest(port: number, head: string) {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  return { finish: () => socket.write('\r\n'), answer: async () => (await closed, text) };
}

describe('draining', () => {
  it('when the app is closing, then a request still arriving gets 503 SHUTTING_DOWN in the error shape, /health/ready says stopping, in-flight requests finish, and close does not wait for their keep-alive connections', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let closingSeen!: () => void;
    const closing = new Promise<void>((r) => (closingSeen = r));
    const t = await buildTestApp({
      beforeReady: (app) => {
        app.get('/probe/slow', { config: { public: true } }, async () => {
          await held;
          return { ok: true };
        });
        app.addHook('preClose', (done) => {
          closingSeen(); // runs after the app's own preClose hook
          done();
        });
      },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = portOf(t.app);
    const late = splitRequest(port, `GET /symbols HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_KEYS.read}\r\n`);
    const probe = splitRequest(port, 'GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n');
    const inFlight = fetch(`http://127.0.0.1:${port}/probe/slow`);
    await new Promise<void>((r) => t.app.server.once('request', () => r())); // the slow request has arrived

    const closed = t.close();
    await closing;
    late.finish();
    probe.finish();
    const lateAnswer = await late.answer();
    expect(lateAnswer).toMatch(/^HTTP\/1\.1 503/);
    expect(lateAnswer.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(lateAnswer.slice(lateAnswer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toEqual({ statusCode: 503, error: 'SHUTTING_DOWN', message: expect.any(String), requestId: expect.any(String) });
    const probeAnswer = await probe.answer();
    expect(probeAnswer).toMatch(/^HTTP\/1\.1 503/);
    expect(probeAnswer).toContain('"status":"stopping"');

    release();
    expect((await inFlight).status).toBe(200);
    await closed; // no lingering keep-alive connection holds the close
  });
});
