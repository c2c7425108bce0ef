/**
 * Pre-trade gate throughput vs a bare Fastify route, in one run.
 *
 *   npm run bench:pretrade [-- --connections 50 --duration 10 --warmup 3 --audit-max 100000]
 *
 * A child process serves, on 127.0.0.1 ephemeral ports: (1) the real app (buildApp,
 * memory store, auth on, a realistic synthetic BTCUSDT heatmap and 200-level book
 * republished every 5 s so it stays fresh) and (2) a bare Fastify app with one POST route
 * that echoes the body. This process loads each with autocannon (same connections,
 * duration and body, after a warm-up; gate first, then bare, then the gate again to show
 * drift) and prints req/s, p50 and p99 latency and the gate/bare throughput ratio. A
 * third target, the bare app answering with a stored decision (same reply size as the
 * gate's), separates the cost of a bigger reply from the gate's own work; a fourth, an
 * echo route inside the real app (auth hook, request-id hooks, logger), separates the
 * app's shared plumbing from the gate's own work.
 * Servers and load generator are separate processes so neither steals the other's event
 * loop; on a 2-core machine they still share the CPU, equally for both targets.
 *
 * Measured on the 2-core dev VM (2026-11-24, 50 connections, 10 s): gate ~14.9k req/s
 * (p50 3 ms, p99 5 ms), bare echo ~51.6k (p50 0, p99 1): 29%, below the 80% target.
 * Where the gate's time goes (same runs, route variants): the app's shared plumbing
 * alone (auth digest, request-id hooks, per-request logger) keeps ~58% of bare; adding
 * the strict request schema ~32k; + evaluatePretrade ~23k; + serializing the decision
 * ~17k; + the audit record ~14.9k. Reply size is not the cause (bare with a
 * decision-sized reply runs as fast as the echo).
 *
 * The gate runs with LOG_LEVEL=warn (no per-request log lines) and the bare app with no
 * logger: the comparison is of request handling, not log I/O. The order carries no
 * clientOrderId (the hot path: no store round trip).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { configFromEnv } from '../src/config.js';
import type { Cluster, Heatmap } from '../src/domain/heatmap/types.js';
import type { OrderBook } from '../src/domain/market-data.js';
import { createLogger } from '../src/logger.js';

const BENCH_KEY = 'bench-pretrade-key-0001';
const ORDER = { symbol: 'BTCUSDT', side: 'buy', quantity: 0.5, orderType: 'market', accountId: 'bench', strategyId: 'momentum-1' };

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

/** Child: serve the gate and the bare route until told to stop. */
async function serve(auditMax: string): Promise<void> {
  const config = configFromEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    STORE: 'memory',
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    API_KEYS: `bench=${BENCH_KEY}:pretrade+read`,
    AUDIT_MAX_ENTRIES: auditMax,
  });
  const logger = createLogger('warn');
  const gate = await buildApp(config, { clock: () => Date.now(), logger, redis: null, marketSource: null });
  const publish = async () => {
    const now = Date.now();
    const { heatmap, orderBook } = syntheticMarket(now);
    await gate.services.heatmaps.publish({ symbol: 'BTCUSDT', asOf: now, source: 'sim', venues: heatmap.venues, heatmap, orderBook });
  };
  await publish();
  const timer = setInterval(() => void publish(), 5_000);
  // Diagnostic only: an echo inside the real app (same auth hook, request-id hooks and
  // logger as the gate route, no body schema), to split the app's shared plumbing from
  // the gate's own work. Registered here, not in the app.
  gate.post('/bench-echo', { config: { scope: 'pretrade' }, schema: { hide: true } }, async (req) => req.body);
  await gate.listen({ host: '127.0.0.1', port: 0 });

  // A real decision, so the third target answers with a reply of the same size.
  const sample = await gate.inject({
    method: 'POST',
    url: '/pretrade-check',
    headers: { authorization: `Bearer ${BENCH_KEY}` },
    payload: ORDER,
  });
  const bare = Fastify();
  bare.post('/echo', async (req) => req.body);
  bare.post('/decision-sized', async (_req, reply) => reply.type('application/json').send(sample.body));
  await bare.listen({ host: '127.0.0.1', port: 0 });

  const port = (app: { server: { address(): unknown } }) => (app.server.address() as { port: number }).port;
  process.send?.({ gatePort: port(gate), barePort: port(bare) });
  process.on('message', async (msg) => {
    if (msg !== 'stop') return;
    clearInterval(timer);
    await bare.close();
    await gate.close();
    process.disconnect?.();
  });
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, connections: number, duration: number): Promise<Figures> {
  const r = await autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(ORDER),
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      serve: { type: 'boolean', default: false },
      'audit-max': { type: 'string', default: '100000' },
    },
  });
  if (values.serve) return serve(values['audit-max']);
  const connections = Number(values.connections);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);

  const child = fork(fileURLToPath(import.meta.url), ['--serve', '--audit-max', values['audit-max']], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<{ gatePort: number; barePort: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { gatePort: number; barePort: number }));
    child.once('exit', (code) => reject(new Error(`server process exited early (${code})`)));
  });
  const gateUrl = `http://127.0.0.1:${ports.gatePort}/pretrade-check`;
  const bareUrl = `http://127.0.0.1:${ports.barePort}/echo`;
  const sizedUrl = `http://127.0.0.1:${ports.barePort}/decision-sized`;
  const plumbingUrl = `http://127.0.0.1:${ports.gatePort}/bench-echo`;
  const auth = { authorization: `Bearer ${BENCH_KEY}` };

  try {
    // A sanity check: the gate answers with a real decision.
    const probe = await fetch(gateUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(ORDER) });
    const decision = (await probe.json()) as { decision?: string; reasons?: { code: string }[]; warnings?: { code: string }[] };
    console.log(`probe: HTTP ${probe.status}, decision ${decision.decision}, reasons [${(decision.reasons ?? []).map((r) => r.code).join(', ')}], warnings [${(decision.warnings ?? []).map((r) => r.code).join(', ')}]`);

    console.log(`warm-up ${warmup} s each, then ${duration} s per run, ${connections} connections, body ${JSON.stringify(ORDER)}`);
    await load(gateUrl, auth, connections, warmup);
    await load(bareUrl, {}, connections, warmup);
    await load(sizedUrl, {}, connections, warmup);
    await load(plumbingUrl, auth, connections, warmup);
    const gate1 = await load(gateUrl, auth, connections, duration);
    const bare = await load(bareUrl, {}, connections, duration);
    const gate2 = await load(gateUrl, auth, connections, duration);
    const sized = await load(sizedUrl, {}, connections, duration);
    const plumbing = await load(plumbingUrl, auth, connections, duration);

    const row = (name: string, f: Figures) =>
      `${name.padEnd(22)} ${f.rps.toFixed(0).padStart(9)} ${String(f.p50).padStart(8)} ${String(f.p99).padStart(8)} ${String(f.non2xx + f.errors).padStart(8)}`;
    console.log(`\n${'target'.padEnd(22)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non-2xx'.padStart(8)}`);
    console.log(row('gate (run 1)', gate1));
    console.log(row('bare echo', bare));
    console.log(row('gate (run 2)', gate2));
    console.log(row('bare, decision reply', sized));
    console.log(row('app plumbing, echo', plumbing));
    const gateRps = (gate1.rps + gate2.rps) / 2;
    const ratio = gateRps / bare.rps;
    console.log(`\ngate/bare throughput: ${(ratio * 100).toFixed(1)}% (mean of both gate runs; target >= 80%) ${ratio >= 0.8 ? 'PASS' : 'BELOW TARGET'}`);
    console.log(`app plumbing (auth, request id, logger) echo / bare: ${((plumbing.rps / bare.rps) * 100).toFixed(1)}%`);
    console.log(`gate/bare-with-a-decision-sized-reply: ${((gateRps / sized.rps) * 100).toFixed(1)}% (same route work as the bare echo, reply as large as the gate's)`);
  } finally {
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
  }
}

await main();
