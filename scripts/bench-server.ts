/**
 * One server under test for `npm run bench:pretrade`, in its own process (started by
 * scripts/bench-pretrade.ts, never on its own): it listens on an ephemeral 127.0.0.1
 * port, reports `{ port }` over IPC, answers the message 'cpu' with `{ cpuUs, mainCpuUs }`
 * (its CPU time so far: the whole process, and the event-loop thread alone) and closes on the message 'stop'.
 *
 *   node --import tsx scripts/bench-server.ts <kind> [--audit-max N]
 *
 * Kinds:
 *   gate       the real app (buildApp, memory store, auth on, LOG_LEVEL=warn) with a
 *              realistic synthetic BTCUSDT heatmap and 200-level book republished every
 *              5 s so it stays fresh. POST /pretrade-check is the real route.
 *   bare       a plain Fastify app, default settings, no logger, no schema: POST /echo
 *              answers with the parsed JSON body.
 *   plumbing   (diagnostic) the real app plus POST /bench-echo, an echo with the app's
 *              auth hook, request-id hooks and logger but no body schema and no gate
 *              work. Registered here, never in the app.
 *   sized      (diagnostic) the bare app answering with a real decision's JSON (same
 *              reply size as the gate's), to tell reply size from gate work.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { configFromEnv } from '../src/config.js';
import type { Cluster, Heatmap } from '../src/domain/heatmap/types.js';
import type { OrderBook } from '../src/domain/market-data.js';
import { createLogger } from '../src/logger.js';
import { BENCH_KEY, BENCH_ORDER } from './bench-fixtures.js';

function syntheticMarket(now: number): { heatmap: Heatmap; orderBook: OrderBook } {
  const mark = 97_250;
  const cluster = (side: 'long' | 'short', distBps: number, notionalUsd: number, major: boolean): Cluster => {
    const edge = side === 'long' ? mark * (1 - distBps / 10_000) : mark * (1 + distBps / 10_000);
    const far = side === 'long' ? edge - mark * 0.0015 : edge + mark * 0.0015;
    const priceLow = Math.min(edge, far);
    const priceHigh = Math.max(edge, far);
    return { side, peakPrice: (priceLow + priceHigh) / 2, priceLow, priceHigh, notionalUsd, share: notionalUsd / 400e6, distanceBps: distBps, major };
  };
  const clusters = [
    cluster('long', 180, 60e6, true),
    cluster('long', 420, 35e6, false),
    cluster('long', 900, 80e6, true),
    cluster('short', 240, 45e6, true),
    cluster('short', 650, 30e6, false),
    cluster('short', 1_100, 70e6, true),
  ];
  const bins = Array.from({ length: 201 }, (_, i) => ({ price: mark * (0.9 + i * 0.001), longUsd: 1e6, shortUsd: 1e6, probability: 1 / 201 }));
  const heatmap: Heatmap = {
    symbol: 'BTCUSDT',
    venues: ['binanceusdm', 'bybit', 'okx'],
    asOf: now,
    markPrice: mark,
    binBps: 10,
    rangePct: 0.1,
    bins,
    clusters,
    crowding: { side: 'long', strength: 0.35, fundingRate: 0.0002, oiChangePct: 0.04 },
    risk: { score: 38, inputs: {} },
    totalLongUsd: 200e6,
    totalShortUsd: 200e6,
    openInterestUsd: 8e9,
  };
  const bids = [];
  const asks = [];
  for (let i = 0; i < 200; i++) {
    bids.push({ price: mark - 0.05 - i * 2, size: 0.8 + (i % 7) * 0.3 });
    asks.push({ price: mark + 0.05 + i * 2, size: 0.8 + (i % 5) * 0.35 });
  }
  return { heatmap, orderBook: { ts: now, bids, asks } };
}

interface Served {
  port: number;
  close(): Promise<void>;
}

/** The real app, as src/server.ts builds it but with the memory store and a published market. */
async function realApp(auditMax: string, withEcho: boolean): Promise<Served & { decisionJson(): Promise<string> }> {
  const config = configFromEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    STORE: 'memory',
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    API_KEYS: `bench=${BENCH_KEY}:pretrade+read`,
    AUDIT_MAX_ENTRIES: auditMax,
  });
  const logger = createLogger('warn');
  const app = await buildApp(config, { clock: () => Date.now(), logger, redis: null, marketSource: null });
  const publish = async () => {
    const now = Date.now();
    const { heatmap, orderBook } = syntheticMarket(now);
    await app.services.heatmaps.publish({ symbol: 'BTCUSDT', asOf: now, source: 'sim', venues: heatmap.venues, heatmap, orderBook });
  };
  await publish();
  const timer = setInterval(() => void publish(), 5_000);
  if (withEcho) app.post('/bench-echo', { config: { scope: 'pretrade' }, schema: { hide: true } }, async (req) => req.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    port: (app.server.address() as { port: number }).port,
    close: async () => {
      clearInterval(timer);
      await app.close();
    },
    decisionJson: async () => {
      const r = await app.inject({
        method: 'POST',
        url: '/pretrade-check',
        headers: { authorization: `Bearer ${BENCH_KEY}` },
        payload: BENCH_ORDER,
      });
      return r.body;
    },
  };
}

async function bareApp(decisionJson: string | null): Promise<Served> {
  const app = Fastify();
  if (decisionJson === null) app.post('/echo', async (req) => req.body);
  else app.post('/decision-sized', async (_req, reply) => reply.type('application/json').send(decisionJson));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as { port: number }).port, close: () => app.close() };
}

/**
 * CPU time of the main (event loop) thread alone, µs, from /proc (Linux; NaN elsewhere):
 * process.cpuUsage() also counts V8's GC helper threads, which run beside the loop.
 * Clock ticks are 10 ms, fine over runs of seconds.
 */
function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS_PER_S = 100;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'audit-max': { type: 'string', default: '100000' } },
  });
  const kind = positionals[0];
  let served: Served;
  switch (kind) {
    case 'gate':
      served = await realApp(values['audit-max'], false);
      break;
    case 'plumbing':
      served = await realApp(values['audit-max'], true);
      break;
    case 'bare':
      served = await bareApp(null);
      break;
    case 'sized': {
      // A real decision from a throw-away gate, so the reply has the gate's size.
      const gate = await realApp(values['audit-max'], false);
      const json = await gate.decisionJson();
      await gate.close();
      served = await bareApp(json);
      break;
    }
    default:
      throw new Error(`unknown server kind ${String(kind)} (gate, bare, plumbing, sized)`);
  }
  if (!process.send) throw new Error('bench-server runs as a child of scripts/bench-pretrade.ts (needs an IPC channel)');
  process.send({ port: served.port });
  process.on('message', (msg) => {
    // CPU time used so far (user + system, µs): the parent turns it into CPU per request.
    if (msg === 'cpu') {
      const u = process.cpuUsage();
      process.send?.({ cpuUs: u.user + u.system, mainCpuUs: mainThreadCpuUs() });
    }
    if (msg === 'stop') void served.close().then(() => process.disconnect());
  });
}

await main();
