/**
 * Pre-trade gate performance, in one run, three views (each target in its own process,
 * scripts/bench-server.ts; this process only generates load; every view's targets are
 * loaded alternately, round after round, and medians and ratios come from the same run):
 *
 *   npm run bench:pretrade [-- --connections 50 --duration 10 --warmup 3 --rounds 3
 *                              --rates 2000,5000 --batch 50 --views own,production,batch
 *                              --audit-max 100000 --targets plumbing,sized,decide-only --profile DIR]
 *
 * 1. own: the gate's own cost. `gate` (the real app on the memory store, POST
 *    /pretrade-check without clientOrderId) next to `floor` (a bare Fastify app doing only
 *    what any gate must do per request: key check, body validation with the route's zod
 *    schema, an id and a timestamp, a decision-sized reply once its audit record is through
 *    the same group commit as the gate's) and
 *    `bare` (a bare Fastify echo): req/s, p50/p99, server CPU per request, under
 *    autocannon and, when `wrk` is on the PATH, under wrk too (one thread). The figure
 *    that matters is gate / floor.
 * 2. production: `gate-redis` (Redis store, a unique clientOrderId on every order, so each
 *    decision makes its idempotency round trip, and orders spread over BENCH_ACCOUNTS
 *    accounts, each order's check-and-reserve on Redis) next to `gate-redis-no-exposure`
 *    (the same with exposure tracking off): p50/p99 at fixed request rates (autocannon's
 *    overallRate: rate-limited, so latency is measured from each request's send, not from
 *    its scheduled time) and the saturation throughput (closed loop), each pair loaded
 *    alternately.
 * 3. batch: POST /pretrade-check/batch with --batch orders per call against the single
 *    route, on the memory gate: decisions per second of each.
 *
 * --targets adds diagnostic targets to view 1 (plumbing: the app's hooks and logger around
 * an echo; sized: the bare app with a decision-sized reply; decide-only: the decision
 * alone). --profile DIR runs each server under `--cpu-prof`.
 *
 * On a 2-core machine the load generator and the server under test each take one core;
 * the idle targets wait. The gate runs with LOG_LEVEL=warn (no per-request log lines), the
 * bare apps with no logger. Figures, with the command that produced them: README,
 * "Performance".
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { BENCH_ACCOUNTS, BENCH_KEY, BENCH_ORDER, BENCH_PRODUCTION_ORDER } from './bench-fixtures.js';
import { median as medianOrNull } from '../src/lib/math.js';

type Kind = 'gate' | 'gate-redis' | 'gate-redis-no-exposure' | 'floor' | 'bare' | 'plumbing' | 'sized' | 'decide-only';
type Tool = 'autocannon' | 'wrk';

interface Target {
  kind: Kind;
  label: string;
  base: string;
  path: string;
  headers: Record<string, string>;
  child: ChildProcess;
}

/** One load: what to send and how (closed loop, or a fixed overall rate). */
interface Load {
  path?: string;
  body: string;
  connections: number;
  duration: number;
  /** Requests per second over all connections (autocannon only); closed loop without it. */
  rate?: number;
  /** Give every request's order a new clientOrderId and the next of BENCH_ACCOUNTS accounts (autocannon only). */
  uniqueIds?: boolean;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  /** Server CPU time per request, µs (user + system, from the child's process.cpuUsage). */
  cpuPerReq: number;
}

const SERVER = fileURLToPath(new URL('./bench-server.ts', import.meta.url));
const AUTH = { authorization: `Bearer ${BENCH_KEY}` };
const run = promisify(execFile);

async function start(kind: Kind, auditMax: string, profileDir: string | undefined): Promise<Target> {
  const prof = profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, kind)] : [];
  const child = fork(SERVER, [kind, '--audit-max', auditMax], {
    execArgv: ['--import', 'tsx', ...prof],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited early (${code})`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const t = (label: string, path: string, headers: Record<string, string>): Target => ({ kind, label, base, path, headers, child });
  switch (kind) {
    case 'gate':
      return t('gate (memory store)', '/pretrade-check', AUTH);
    case 'gate-redis':
      return t('gate (Redis, clientOrderId), exposure on', '/pretrade-check', AUTH);
    case 'gate-redis-no-exposure':
      return t('gate (Redis, clientOrderId), exposure off', '/pretrade-check', AUTH);
    case 'floor':
      return t('floor (what any gate must do)', '/floor', AUTH);
    case 'bare':
      return t('bare echo', '/echo', {});
    case 'plumbing':
      return t('app plumbing, echo', '/bench-echo', AUTH);
    case 'sized':
      return t('bare, decision reply', '/decision-sized', {});
    case 'decide-only':
      return t('bare + decision only', '/decide-only', {});
  }
}

async function stop(t: Target): Promise<void> {
  if (t.child.exitCode !== null) return;
  const exited = new Promise((r) => t.child.once('exit', r));
  t.child.send('stop');
  // It exits by itself once closed (so --cpu-prof writes its profile); never wait for ever.
  const timer = setTimeout(() => t.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** The child's CPU time so far (µs, user + system). */
function cpuUs(t: Target): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof m !== 'object' || m === null || !('cpuUs' in m)) return;
      t.child.off('message', on);
      resolve((m as { cpuUs: number }).cpuUs);
    };
    t.child.on('message', on);
    t.child.send('cpu');
  });
}

interface Raw {
  rps: number;
  total: number;
  p50: number;
  p99: number;
  bad: number;
}

let ids = 0;
const idPrefix = `b${process.pid}-${Date.now().toString(36)}`;
/** The order with a clientOrderId never used before (in this run, and across runs), for the next account in turn. */
const withNewId = (body: string): string => {
  ids += 1;
  const spread = body.replace(`"accountId":"${BENCH_ORDER.accountId}"`, `"accountId":"bench-${ids % BENCH_ACCOUNTS}"`);
  return `${spread.slice(0, -1)},"clientOrderId":"${idPrefix}-${ids}"}`;
};

async function autocannonRun(t: Target, l: Load): Promise<Raw> {
  const r = await autocannon({
    url: `${t.base}${l.path ?? t.path}`,
    method: 'POST',
    connections: l.connections,
    duration: l.duration,
    headers: { 'content-type': 'application/json', ...t.headers },
    body: l.body,
    ...(l.uniqueIds ? { requests: [{ method: 'POST' as const, setupRequest: (req) => ({ ...req, body: withNewId(l.body) }) }] } : {}),
    ...(l.rate === undefined ? {} : { overallRate: l.rate }),
  });
  return { rps: r.requests.average, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts };
}

/** wrk, one thread, the body and headers from a Lua script; its `done` prints the figures as JSON. */
async function wrkRun(t: Target, l: Load, dir: string): Promise<Raw> {
  const script = join(dir, `${t.kind}.lua`);
  const headers = Object.entries({ 'content-type': 'application/json', ...t.headers })
    .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(l.body)}\n${headers}\n` +
      `done = function(s, lat, req)\n` +
      `  local e = s.errors\n` +
      `  io.write(string.format('{"requests":%d,"us":%d,"p50":%d,"p99":%d,"bad":%d}\\n', s.requests, s.duration,` +
      ` lat:percentile(50), lat:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))\nend\n`,
  );
  const { stdout } = await run('wrk', ['-t1', `-c${l.connections}`, `-d${l.duration}s`, '-s', script, `${t.base}${l.path ?? t.path}`]);
  const line = stdout.split('\n').find((x) => x.startsWith('{"requests"'));
  if (!line) throw new Error(`no figures in wrk's output:\n${stdout}`);
  const w = JSON.parse(line) as { requests: number; us: number; p50: number; p99: number; bad: number };
  return { rps: w.requests / (w.us / 1e6), total: w.requests, p50: w.p50 / 1000, p99: w.p99 / 1000, bad: w.bad };
}

async function hasWrk(): Promise<boolean> {
  try {
    await run('wrk', ['--version']).catch((err: { stdout?: string }) => {
      // wrk --version exits 1 after printing its version.
      if (!err.stdout?.startsWith('wrk')) throw err;
    });
    return true;
  } catch {
    return false;
  }
}

async function load(t: Target, l: Load, tool: Tool, dir: string): Promise<Figures> {
  const cpu0 = await cpuUs(t);
  const r = tool === 'wrk' ? await wrkRun(t, l, dir) : await autocannonRun(t, l);
  const cpu1 = await cpuUs(t);
  return { rps: r.rps, p50: r.p50, p99: r.p99, bad: r.bad, cpuPerReq: (cpu1 - cpu0) / Math.max(1, r.total) };
}

const median = (xs: number[]): number => medianOrNull(xs) ?? NaN;

const medianOf = (fs: Figures[]): Figures => ({
  rps: median(fs.map((f) => f.rps)),
  p50: median(fs.map((f) => f.p50)),
  p99: median(fs.map((f) => f.p99)),
  bad: fs.reduce((a, f) => a + f.bad, 0),
  cpuPerReq: median(fs.map((f) => f.cpuPerReq)),
});

const HEAD = `${'target'.padEnd(52)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'cpu µs/req'.padStart(11)} ${'non-2xx'.padStart(8)}`;
const row = (name: string, f: Figures): string =>
  `${name.padEnd(52)} ${f.rps.toFixed(0).padStart(9)} ${f.p50.toFixed(2).padStart(8)} ${f.p99.toFixed(2).padStart(8)} ${f.cpuPerReq.toFixed(1).padStart(11)} ${String(f.bad).padStart(8)}`;

/**
 * Runs `cases` alternately for `rounds` rounds (after one warm-up each) and prints every
 * run and the medians; returns the runs per case name.
 */
async function interleaved(
  title: string,
  cases: { name: string; target: Target; load: Load; tool: Tool }[],
  rounds: number,
  warmup: number,
  dir: string,
): Promise<Map<string, Figures[]>> {
  console.log(`\n== ${title}`);
  for (const c of cases) await load(c.target, { ...c.load, duration: warmup }, c.tool, dir);
  const runs = new Map<string, Figures[]>(cases.map((c) => [c.name, []]));
  console.log(HEAD);
  for (let i = 1; i <= rounds; i++) {
    for (const c of cases) {
      const f = await load(c.target, c.load, c.tool, dir);
      runs.get(c.name)!.push(f);
      console.log(row(`${c.name} (round ${i})`, f));
    }
  }
  console.log(`medians over ${rounds} rounds`);
  for (const c of cases) console.log(row(c.name, medianOf(runs.get(c.name)!)));
  const bad = cases.reduce((a, c) => a + medianOf(runs.get(c.name)!).bad, 0);
  if (bad > 0) console.log(`WARNING: ${bad} non-2xx responses or errors during the measured runs`);
  return runs;
}

/** "median (rounds a, b, c)" of a / b per round. */
function ratio(a: Figures[], b: Figures[], goal?: number): string {
  const per = a.map((f, i) => f.rps / (b[i]?.rps ?? NaN));
  const m = medianOf(a).rps / medianOf(b).rps;
  const verdict = goal === undefined ? '' : m >= goal ? ` (goal >= ${goal}: met)` : ` (goal >= ${goal}: NOT met)`;
  return `${m.toFixed(2)} of median req/s; per round ${per.map((r) => r.toFixed(2)).join(', ')}${verdict}`;
}

async function probe(t: Target, body: unknown): Promise<void> {
  const r = await fetch(`${t.base}${t.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body: JSON.stringify(body) });
  const d = (await r.json()) as { decision?: string; reasons?: { code: string }[]; warnings?: { code: string }[] };
  console.log(
    `probe ${t.label}: HTTP ${r.status}, decision ${d.decision}, reasons [${(d.reasons ?? []).map((x) => x.code).join(', ')}], warnings [${(d.warnings ?? []).map((x) => x.code).join(', ')}]`,
  );
  if (r.status !== 200) throw new Error(`${t.label} did not answer 200: not benchmarking an error path`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      rates: { type: 'string', default: '2000,5000' },
      batch: { type: 'string', default: '50' },
      views: { type: 'string', default: 'own,production,batch' },
      'audit-max': { type: 'string', default: '100000' },
      profile: { type: 'string' },
      targets: { type: 'string' },
    },
  });
  const connections = Number(values.connections);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const rounds = Math.max(1, Number(values.rounds));
  const rates = values.rates.split(',').map(Number).filter((r) => r > 0);
  const batchSize = Number(values.batch);
  const views = new Set(values.views.split(',').map((v) => v.trim()));
  const profileDir = values.profile;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const diagnostics: Kind[] = ['plumbing', 'sized', 'decide-only'];
  const extra = (values.targets?.split(',').map((t) => t.trim()) ?? []) as Kind[];
  const unknown = extra.filter((t) => !diagnostics.includes(t));
  if (unknown.length > 0) throw new Error(`unknown --targets ${unknown.join(', ')} (known: ${diagnostics.join(', ')})`);

  const kinds: Kind[] = [
    ...(views.has('own') || views.has('batch') ? (['gate'] as Kind[]) : []),
    ...(views.has('own') ? (['floor', 'bare', ...extra] as Kind[]) : []),
    ...(views.has('production') ? (['gate-redis', 'gate-redis-no-exposure'] as Kind[]) : []),
  ];
  const tools: Tool[] = (await hasWrk()) ? ['autocannon', 'wrk'] : ['autocannon'];
  const dir = mkdtempSync(join(tmpdir(), 'bench-pretrade-'));
  const targets = new Map<Kind, Target>();
  const single = JSON.stringify(BENCH_ORDER);
  try {
    for (const k of kinds) targets.set(k, await start(k, values['audit-max'], profileDir));
    const gate = targets.get('gate');
    const redisGate = targets.get('gate-redis');
    const untracked = targets.get('gate-redis-no-exposure');
    if (gate) await probe(gate, BENCH_ORDER);
    for (const t of [redisGate, untracked]) if (t) await probe(t, { ...BENCH_PRODUCTION_ORDER, accountId: 'bench-probe', clientOrderId: 'bench-probe' });
    console.log(
      `one process per server, load from this process; ${connections} connections, warm-up ${warmup} s, ${rounds} interleaved rounds of ${duration} s; order ${single}${redisGate ? ` (production view: ${JSON.stringify(BENCH_PRODUCTION_ORDER)}, accountId bench-0 … bench-${BENCH_ACCOUNTS - 1})` : ''}; tools: ${tools.join(', ')}`,
    );

    if (views.has('own')) {
      const own = (['gate', 'floor', 'bare', ...extra] as Kind[]).map((k) => targets.get(k)!);
      for (const tool of tools) {
        const runs = await interleaved(
          `1. the gate's own cost (${tool})`,
          own.map((t) => ({ name: `${t.label}, ${tool}`, target: t, load: { body: single, connections, duration }, tool })),
          rounds,
          warmup,
          dir,
        );
        const of = (k: Kind) => runs.get(`${targets.get(k)!.label}, ${tool}`)!;
        console.log(`gate / floor (${tool}): ${ratio(of('gate'), of('floor'), 0.7)}`);
        console.log(`gate / bare  (${tool}): ${ratio(of('gate'), of('bare'))}`);
        console.log(`floor / bare (${tool}): ${ratio(of('floor'), of('bare'))}`);
        const g = medianOf(of('gate'));
        const fl = medianOf(of('floor'));
        console.log(`server CPU per request (${tool}): gate ${g.cpuPerReq.toFixed(1)} µs, floor ${fl.cpuPerReq.toFixed(1)} µs`);
      }
    }

    if (redisGate && untracked) {
      const base = { body: JSON.stringify(BENCH_PRODUCTION_ORDER), connections, duration, uniqueIds: true };
      const pair = [
        { target: redisGate, tag: 'exposure on' },
        { target: untracked, tag: 'exposure off' },
      ];
      const runs = await interleaved(
        `2. what production runs: Redis store, a new clientOrderId on every order, ${BENCH_ACCOUNTS} accounts; exposure tracking on and off (autocannon)`,
        [
          ...rates.flatMap((rate) => pair.map(({ target, tag }) => ({ name: `${rate}/s, ${tag}`, target, load: { ...base, rate }, tool: 'autocannon' as const }))),
          ...pair.map(({ target, tag }) => ({ name: `saturation (closed loop), ${tag}`, target, load: base, tool: 'autocannon' as const })),
        ],
        rounds,
        warmup,
        dir,
      );
      const sat = (tag: string) => runs.get(`saturation (closed loop), ${tag}`)!;
      console.log(`saturation, exposure on / off: ${ratio(sat('exposure on'), sat('exposure off'))}`);
    }

    if (views.has('batch') && gate) {
      const orders = Array.from({ length: batchSize }, () => BENCH_ORDER);
      const runs = await interleaved(
        `3. batch (${batchSize} orders per call) against single (memory store, autocannon)`,
        [
          { name: 'single', target: gate, load: { body: single, connections, duration }, tool: 'autocannon' },
          { name: `batch of ${batchSize}`, target: gate, load: { path: '/pretrade-check/batch', body: JSON.stringify({ orders }), connections, duration }, tool: 'autocannon' },
        ],
        rounds,
        warmup,
        dir,
      );
      const singles = runs.get('single')!;
      const batches = runs.get(`batch of ${batchSize}`)!.map((f) => ({ ...f, rps: f.rps * batchSize }));
      console.log(
        `decisions/s: single ${medianOf(singles).rps.toFixed(0)}, batch ${medianOf(batches).rps.toFixed(0)}; batch / single: ${ratio(batches, singles, 5)}`,
      );
    }
  } finally {
    await Promise.all([...targets.values()].map(stop));
    rmSync(dir, { recursive: true, force: true });
    if (profileDir) console.log(`CPU profiles written to ${profileDir}/<target>/`);
  }
}

await main();
