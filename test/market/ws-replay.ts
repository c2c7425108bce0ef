import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A local websocket server speaking just enough of a venue's public protocol for ccxt
 * pro's order books and liquidations: it acknowledges each subscription the way the venue
 * does and replays the recorded frames (test/fixtures/ccxt/<venue>/ws-*.json) of the
 * subscribed channel for the subscribed symbol.
 * ccxt's real ws client and parsing run against it.
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ccxt');

export interface WsReplay {
  url: string;
  /** Subscriptions received, as the venue names them (`btcusdt@depth`, `BTC-USDT-SWAP`, `liquidation-orders:SWAP`, `allLiquidation.BTCUSDT`). */
  subscribed: string[];
  close(): Promise<void>;
}

type Protocol = (ws: WebSocket, text: string, subscribed: string[]) => void;

const frames = (venue: string, file: string): string => readFileSync(join(FIXTURES, venue, file), 'utf8');

const PROTOCOLS: Record<string, Protocol> = {
  // {"method":"SUBSCRIBE","params":["btcusdt@depth"],"id":1} → {"result":null,"id":1}, then depthUpdate diffs;
  // `btcusdt@forceOrder` or the all-market `!forceOrder@arr` → forceOrder events.
  binanceusdm(ws, text, subscribed) {
    const msg = JSON.parse(text) as { method?: string; params?: string[]; id?: number };
    if (msg.method !== 'SUBSCRIBE') return;
    ws.send(JSON.stringify({ result: null, id: msg.id }));
    for (const stream of msg.params ?? []) {
      subscribed.push(stream);
      const symbol = stream.startsWith('!') ? 'BTCUSDT' : stream.split('@')[0]!.toUpperCase();
      const file = stream.includes('forceOrder') ? 'ws-forceOrder.json' : 'ws-depth.json';
      const recorded = JSON.parse(frames('binanceusdm', file).replaceAll('BTCUSDT', symbol)) as unknown[];
      for (const f of recorded) ws.send(JSON.stringify(f));
    }
  },
  // {"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT-SWAP"}]} → {"event":"subscribe",...}, then books frames;
  // {"channel":"liquidation-orders","instType":"SWAP"} → liquidation pushes of every swap.
  okx(ws, text, subscribed) {
    if (text === 'ping') return ws.send('pong');
    const msg = JSON.parse(text) as { op?: string; args?: { channel: string; instId?: string; instType?: string }[] };
    if (msg.op !== 'subscribe') return;
    for (const arg of msg.args ?? []) {
      ws.send(JSON.stringify({ event: 'subscribe', arg, connId: 'replay' }));
      if (arg.channel === 'liquidation-orders') {
        subscribed.push(`${arg.channel}:${arg.instType ?? ''}`);
        for (const f of JSON.parse(frames('okx', 'ws-liquidation-orders.json')) as unknown[]) ws.send(JSON.stringify(f));
        continue;
      }
      subscribed.push(arg.instId ?? '');
      const base = (arg.instId ?? '').split('-')[0]!;
      const recorded = JSON.parse(frames('okx', 'ws-books.json').replaceAll('BTC-', `${base}-`)) as unknown[];
      for (const f of recorded) ws.send(JSON.stringify(f));
    }
  },
  // {"op":"subscribe","req_id":"1","args":["allLiquidation.BTCUSDT"]} → {"success":true,"op":"subscribe",...}, then pushes.
  bybit(ws, text, subscribed) {
    const msg = JSON.parse(text) as { op?: string; req_id?: string; args?: string[] };
    if (msg.op === 'ping') return ws.send(JSON.stringify({ success: true, ret_msg: 'pong', conn_id: 'replay', req_id: msg.req_id, op: 'ping' }));
    if (msg.op !== 'subscribe') return;
    ws.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'replay', req_id: msg.req_id, op: 'subscribe' }));
    for (const topic of msg.args ?? []) {
      subscribed.push(topic);
      const [channel, symbol] = topic.split('.');
      if (channel !== 'allLiquidation') continue;
      const recorded = JSON.parse(frames('bybit', 'ws-allLiquidation.json').replaceAll('BTCUSDT', symbol ?? 'BTCUSDT')) as unknown[];
      for (const f of recorded) ws.send(JSON.stringify(f));
    }
  },
};

export async function startWsReplay(venue: string): Promise<WsReplay> {
  const protocol = PROTOCOLS[venue];
  if (!protocol) throw new Error(`no websocket replay for ${venue}`);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const subscribed: string[] = [];
  server.on('connection', (ws) => {
    ws.on('message', (data) => protocol(ws, String(data), subscribed));
  });
  const { port } = server.address() as { port: number };
  return {
    // Binance: ccxt inserts /public (or /market) before /ws; OKX: ccxt appends /public. Any path is served.
    url: venue === 'binanceusdm' ? `ws://127.0.0.1:${port}/ws` : `ws://127.0.0.1:${port}`,
    subscribed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}

/**
 * For a test file: what each test opens (a ccxt harness, a replay server) is closed after
 * it, the harness first so its streams end before their server. Returns what a test calls
 * with what it opened.
 */
export function closeAfterEach(): (opened: { h?: { source: { close(): Promise<void> } }; ws?: WsReplay }) => void {
  const open: { h?: { source: { close(): Promise<void> } }; ws?: WsReplay }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.h?.source.close();
      await o.ws?.close();
    }
  });
  return (opened) => {
    open.push(opened);
  };
}
