import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { AppInstance } from '../../src/modules/module.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The port of an app that listens on 127.0.0.1 (call after app.listen). */
export const portOf = (app: AppInstance): number => (app.server.address() as AddressInfo).port;

/**
 * Sends bytes exactly as given on a fresh connection and reads until the server closes it,
 * for requests no HTTP client would send (malformed, oversized, duplicated headers). The
 * request must ask for `Connection: close` or provoke an error that closes the connection.
 */
export function rawExchange(port: number, request: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const colon = l.indexOf(':');
        headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
      }
      const raw = text.slice(split + 4);
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON: the test shows the text
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

/** A GET with the given extra header lines, asking the server to close afterwards. */
export const rawGet = (path: string, headerLines: string[] = []) =>
  [`GET ${path} HTTP/1.1`, 'Host: test', ...headerLines, 'Connection: close', '', ''].join('\r\n');
