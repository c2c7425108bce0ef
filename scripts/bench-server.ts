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
 *   gate-redis the same on the Redis store (REDIS_URL, default redis://127.0.0.1:6379, a
 *              key prefix of its own, deleted on stop), trading state set ACTIVE through
 *              PUT /admin/trading-state as an operator would: what production runs, with
 *              exposure tracking (each order's check-and-reserve script on Redis). Its
 *              policy (BENCH_EXPOSURE_POLICY) has reservations last 1 s, since nothing
 *              fills or releases them here.
 *   gate-redis-no-exposure
 *              the same with exposure tracking off: an exposure store (given to the app
 *              through `deps.stores`, as tests replace a store) that approves every order
 *              in full and keeps nothing, so no Redis round trip: the cost of tracking is
 *              the difference.
 *   floor      the bare app doing only what any gate must do per request, its audit
 *              record's group commit included (see floorApp).
 *   bare       a plain Fastify app, default settings, no logger, no schema: POST /echo
 *              answers with the parsed JSON body.
 *   plumbing   (diagnostic) the real app plus POST /bench-echo, an echo with the app's
 *              auth hook, request-id hooks and logger but no body schema and no gate
 *              work. Registered here, never in the app.
 *   sized      (diagnostic) the bare app answering with a real decision's JSON (same
 *              reply size as the gate's), to tell reply size from gate work.
 */
import { hash, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { configFromEnv } from '../test/helpers/config.js';
import { policyFor } from '../src/config/policy.js';
import { connectRedis } from '../src/infra.js';
import { evaluatePretrade } from '../src/domain/pretrade/index.js';
import { jsonSerializerFor } from '../src/http/schema-serializer.js';
import { PretradeDecisionSchema, PretradeRequestSchema, type PretradeRequest } from '../src/modules/pretrade/schemas.js';
import { createLogger } from '../src/logger.js';
import { closeStores, createStores } from '../src/stores/index.js';
import { createMemoryAuditLog, MEMORY_AUDIT_MAX_ENTRIES } from '../src/stores/audit-log.js';
import { AuditWriter } from '../src/modules/pretrade/audit-writer.js';
import { AUDIT_WRITER_RETRY } from '../src/modules/pretrade/index.js';
import { BENCH_EXPOSURE_POLICY, BENCH_KEY, BENCH_ORDER, syntheticMarket } from './bench-fixtures.js';
import type { ExposureStore } from '../src/stores/exposure-store.js';

/** Exposure tracking off: every order approved in full, nothing kept, no store round trip. */
const untrackedExposure: ExposureStore = {
  get: async () => null,
  reserve: async (_id, orders) => orders.map((o) => ({ decisionId: o.decisionId, quantity: o.quantity, reasons: [], warnings: [] })),
  applyFill: async () => ({ status: 'applied', reservationFound: false }),
  reconcile: async () => ({ status: 'applied', replayedFills: 0 }),
  release: async () => false,
  resetReducing: async () => false,
  knownAccounts: async () => [],
};

/** Listens on an ephemeral loopback port. */
async function serve(app: FastifyInstance): Promise<Served> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as { port: number }).port, close: () => app.close() };
}

interface Served {
  port: number;
  close(): Promise<void>;
}

/** The real app, as src/server.ts builds it but with the memory store and a published market. */
async function realApp(
  auditMax: string,
  withEcho: boolean,
  redisUrl: string | null = null,
  exposure: 'tracked' | 'off' = 'tracked',
): Promise<Served & { decisionJson(): Promise<string> }> {
  const prefix = `liqgate-bench-${process.pid}:`;
  const config = configFromEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...(redisUrl === null
      ? { STORE: 'memory' }
      : { STORE: 'redis', REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, POLICY_JSON: JSON.stringify({ exposure: BENCH_EXPOSURE_POLICY }) }),
    SYMBOLS: 'BTCUSDT,ETHUSDT',
    // Every account: the production view spreads its orders over many (BENCH_ACCOUNTS).
    API_KEYS: `bench=${BENCH_KEY}:pretrade+read+admin@*`,
    // One key sends all the load: its request limit (6,000 a minute) would answer most of it 429.
    RATE_LIMIT_PER_KEY: '0',
    AUDIT_MAX_ENTRIES: auditMax,
  });
  const logger = createLogger('warn');
  const clock = () => Date.now();
  const redis = redisUrl === null ? null : await connectRedis(redisUrl, logger);
  const built = createStores(config, { clock, logger, redis });
  const stores = exposure === 'off' ? { ...built, exposure: untrackedExposure } : built;
  const app = await buildApp(config, { clock, logger, redis, marketSource: null, stores });
  // Written to the store as the poller would; the app's cache picks it up from the announcement.
  const publish = async () => {
    const now = Date.now();
    const { heatmap, orderBook } = syntheticMarket(now);
    await stores.heatmaps.put({ symbol: 'BTCUSDT', asOf: now, source: 'sim', venues: heatmap.venues, heatmap, orderBook });
  };
  await publish();
  const timer = setInterval(() => void publish(), 5_000);
  if (withEcho) app.post('/bench-echo', { config: { scope: 'pretrade' }, schema: { hide: true } }, async (req) => req.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  if (redis) {
    // A new Redis store is HALTED until an operator sets the global state.
    const r = await app.inject({
      method: 'PUT',
      url: '/admin/trading-state',
      headers: { authorization: `Bearer ${BENCH_KEY}` },
      payload: { state: 'ACTIVE', reason: 'benchmark' },
    });
    if (r.statusCode !== 200) throw new Error(`could not set the trading state: ${r.statusCode} ${r.body}`);
  }
  return {
    port: (app.server.address() as { port: number }).port,
    close: async () => {
      clearInterval(timer);
      await app.close();
      await closeStores(stores);
      if (redis) {
        for (let cursor = '0'; ; ) {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
          if (cursor === '0') break;
        }
        await redis.quit();
      }
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

/**
 * The bare app doing only the gate's pure work per request: evaluatePretrade on the
 * synthetic market and the decision JSON (no auth, no validation, no audit, no logger):
 * the ceiling for any gate built on Fastify on this machine.
 */
async function decideOnlyApp(): Promise<Served> {
  const config = configFromEnv({ NODE_ENV: 'test', STORE: 'memory', SYMBOLS: 'BTCUSDT' });
  const { pretrade: policy, maintenanceMargin } = policyFor(config.policy, 'BTCUSDT');
  let market = syntheticMarket(Date.now());
  const timer = setInterval(() => (market = syntheticMarket(Date.now())), 5_000);
  const active = 'ACTIVE' as const;
  const decisionJson = jsonSerializerFor(PretradeDecisionSchema);
  const app = Fastify();
  app.post('/decide-only', (req, reply) => {
    const order = req.body as PretradeRequest;
    const now = Date.now();
    const v = evaluatePretrade({
      order,
      knownSymbol: true,
      market: { heatmap: market.heatmap, version: 1, asOf: market.heatmap.asOf, orderBook: market.orderBook, source: 'sim' },
      tradingState: { global: active, symbol: active },
      policy,
      maintenanceMargin,
      maxHeatmapAgeMs: config.market.heatmapMaxAgeMs,
      now,
    });
    const json = decisionJson({
      decisionId: randomUUID(),
      evaluatedAt: new Date(now).toISOString(),
      validUntil: new Date(now + config.pretrade.decisionValidMs).toISOString(),
      symbol: order.symbol,
      side: order.side,
      clientOrderId: null,
      ...v,
      heatmapAsOf: v.heatmapAsOf === null ? null : new Date(v.heatmapAsOf).toISOString(),
      heatmapVersion: 1,
      policyVersion: config.policy.version,
    });
    void reply.type('application/json; charset=utf-8').send(json);
  });
  app.addHook('onClose', async () => clearInterval(timer));
  return serve(app);
}

/**
 * The floor: the bare app doing only what any gate must do per request, with no decision
 * logic: check the key (SHA-256 + timingSafeEqual), validate the body with the route's
 * zod schema, mint a decision id and timestamp, and answer with a decision-sized reply
 * that carries them once its audit record is durable: the record goes through the app's
 * own group commit (AuditWriter on the memory log, as the gate's memory store has it), and
 * the reply waits for it, as the gate's does.
 */
async function floorApp(template: string): Promise<Served> {
  const keyDigest = hash('sha256', BENCH_KEY, 'buffer');
  const config = configFromEnv({ NODE_ENV: 'test', STORE: 'memory', SYMBOLS: 'BTCUSDT' });
  const audit = new AuditWriter(createMemoryAuditLog(MEMORY_AUDIT_MAX_ENTRIES), createLogger('warn'), {
    ...AUDIT_WRITER_RETRY,
    maxPending: config.pretrade.auditBacklogMax,
    commitTimeoutMs: config.pretrade.audit.commitTimeoutMs,
  });
  const app = Fastify();
  app.post('/floor', async (req, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1] || !timingSafeEqual(keyDigest, hash('sha256', m[1], 'buffer'))) return reply.code(401).send({ error: 'unauthorized' });
    const parsed = PretradeRequestSchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid' });
    const decisionId = randomUUID();
    const json = `{"decisionId":"${decisionId}","evaluatedAt":"${new Date().toISOString()}",${template}`;
    await audit.enqueue({ decisionId, json: `{"request":${JSON.stringify(parsed.data)},"decision":${json}}` });
    return reply.type('application/json; charset=utf-8').send(json);
  });
  app.addHook('onClose', () => audit.stop(Date.now() + 1_000));
  return serve(app);
}

async function bareApp(decisionJson: string | null): Promise<Served> {
  const app = Fastify();
  if (decisionJson === null) app.post('/echo', async (req) => req.body);
  else app.post('/decision-sized', async (_req, reply) => reply.type('application/json').send(decisionJson));
  return serve(app);
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
    case 'gate-redis':
      served = await realApp(values['audit-max'], false, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      break;
    case 'gate-redis-no-exposure':
      served = await realApp(values['audit-max'], false, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'off');
      break;
    case 'plumbing':
      served = await realApp(values['audit-max'], true);
      break;
    case 'bare':
      served = await bareApp(null);
      break;
    case 'floor': {
      // The rest of a real decision after its id and timestamp, so the reply has the gate's size.
      const gate = await realApp(values['audit-max'], false);
      const json = await gate.decisionJson();
      await gate.close();
      served = await floorApp(json.slice(json.indexOf('"symbol"')));
      break;
    }
    case 'decide-only':
      served = await decideOnlyApp();
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
      throw new Error(`unknown server kind ${String(kind)} (gate, gate-redis, gate-redis-no-exposure, bare, floor, plumbing, sized, decide-only)`);
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
