import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, TEST_KEYS, type TestApp } from '../helpers/app.js';
import { waitUntil } from '../helpers/redis-server.js';
import { appForSuite } from '../helpers/suite.js';
import { portOf } from './raw-http.js';

const LONG_TIMEOUTS = { HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '60000' };
const listening = (t: TestApp) => t.app.listen({ host: '127.0.0.1', port: 0 });

const ORDER = JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', notional: 1000, orderType: 'market' });

/** One misbehaving client: a raw socket that sends `opening` and then, optionally, a byte now and then. */
interface SlowClient {
  socket: net.Socket;
  closed: Promise<void>;
  received: () => string;
  stop: () => void;
}

function slowClient(port: number, opening: string, trickle: boolean): SlowClient {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    if (opening) socket.write(opening);
    // A byte every 100 ms never completes the request; it only keeps the socket busy.
    if (trickle) timer = setInterval(() => socket.writable && socket.write('x'), 100);
  });
  socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
  socket.on('error', () => {}); // resets at accept (over the cap) are expected
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  void closed.then(() => clearInterval(timer));
  return { socket, closed, received: () => text, stop: () => (clearInterval(timer), socket.destroy()) };
}

/** A few hundred connections of each kind an attacker without a key can hold. */
function holdSlowConnections(port: number, perKind: number): SlowClient[] {
  const kinds = [
    () => slowClient(port, '', false), // connected, never sends a byte
    () => slowClient(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ', true), // headers never end
    () =>
      slowClient(
        port,
        `POST /pretrade-check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_KEYS.pretrade}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"symbol":`,
        true,
      ), // body never ends in time (a valid key and a size under the limit, so only a timeout can end it)
  ];
  return kinds.flatMap((make) => Array.from({ length: perKind }, make));
}

/** A well-behaved client: a liveness probe and an order check on fresh connections. */
async function wellBehavedIsAnswered(port: number): Promise<boolean> {
  try {
    const base = `http://127.0.0.1:${port}`;
    const live = await fetch(`${base}/health/live`, { headers: { connection: 'close' } });
    const check = await fetch(`${base}/pretrade-check`, {
      method: 'POST',
      headers: { ...bearer(TEST_KEYS.pretrade), 'content-type': 'application/json', connection: 'close' },
      body: ORDER,
    });
    const decision = (await check.json()) as { decision?: string };
    return live.status === 200 && check.status === 200 && typeof decision.decision === 'string';
  } catch {
    return false; // refused or reset while the cap is full: the client retries
  }
}

describe('bounded connections', () => {
  let slow: SlowClient[] = [];
  afterEach(() => {
    for (const c of slow) c.stop();
    slow = [];
  });

  describe('when hundreds of slow and half-open connections are held below the cap', () => {
    // Long timeouts: the slow connections are still held while the good client asks.
    const app = appForSuite({ env: LONG_TIMEOUTS }, listening);

    it('then a well-behaved client is answered while they are still open', async () => {
      const t = app();
      const port = portOf(t.app);
      slow = holdSlowConnections(port, 100);
      await waitUntil(
        async () => (await new Promise<number>((r) => t.app.server.getConnections((_e, n) => r(n)))) >= slow.length,
        10_000,
        'the slow connections to be accepted',
      );
      expect(await wellBehavedIsAnswered(port)).toBe(true);
      expect(slow.every((c) => !c.socket.destroyed)).toBe(true);
    });
  });

  describe('when more slow connections are held than the cap allows', () => {
    const app = appForSuite(
      {
        env: {
          HTTP_MAX_CONNECTIONS: '150',
          HTTP_HEADERS_TIMEOUT_MS: '500',
          HTTP_REQUEST_TIMEOUT_MS: '1000',
          HTTP_TIMEOUT_CHECK_INTERVAL_MS: '100',
        },
      },
      listening,
    );

    it('then the server closes every one of them itself, and a well-behaved client that retries is answered', async () => {
      const port = portOf(app().app);
      slow = holdSlowConnections(port, 100);
      await waitUntil(() => wellBehavedIsAnswered(port), 20_000, 'the well-behaved client to be answered');
      // None of them is closed by this side: each close was the server's (cap, 408 or reset).
      await Promise.all(slow.map((c) => c.closed));
      const timedOut = slow.filter((c) => c.received().startsWith('HTTP/1.1 408'));
      expect(timedOut.length).toBeGreaterThan(0);
      expect(timedOut[0]?.received()).toContain('"error":"REQUEST_TIMEOUT"');
    });
  });

  describe('when a client without a valid key trickles a body after its 401', () => {
    const app = appForSuite({ env: LONG_TIMEOUTS }, listening);

    it('then the server answers 401 and closes the connection (long before any timeout)', async () => {
      const c = slowClient(
        portOf(app().app),
        'POST /pretrade-check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-key-00000000\r\n' +
          'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
        true,
      );
      slow = [c];
      await c.closed;
      expect(c.received()).toMatch(/^HTTP\/1\.1 401/);
      expect(c.received().toLowerCase()).toContain('connection: close');
    });
  });
});
