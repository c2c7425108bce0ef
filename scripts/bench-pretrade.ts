/**
 * Pre-trade gate throughput vs a bare Fastify route, in one run.
 *
 *   npm run bench:pretrade [-- --connections 50 --duration 10 --warmup 3 --rounds 3
 *                              --audit-max 100000 --diagnostics --targets floor,... --profile DIR]
 *
 * Each server under test runs in its own child process (scripts/bench-server.ts, started
 * with `node --import tsx`), this process only generates load (autocannon), so no
 * target shares an event loop with the load generator or with the other target:
 *   gate  the real app (buildApp, memory store, auth on, a realistic synthetic BTCUSDT
 *         heatmap and 200-level book republished every 5 s), the real POST /pretrade-check;
 *   bare  a plain Fastify app (default settings, no schema) whose POST /echo answers with
 *         the same JSON body.
 * Both are warmed up, then loaded alternately (gate, bare, gate, bare, ...) for --rounds
 * rounds with the same connections, duration and body; the table shows every run and
 * the medians (req/s, p50, p99) and the ratio of the median throughputs.
 * --diagnostics (or --targets a,b) adds targets that locate the cost, each in its own
 * process like the others:
 *   plumbing     the real app's plumbing alone: an echo route behind the same auth hook,
 *                request-id hook and logger (registered by bench-server.ts, not the app);
 *   sized        the bare app answering with a real decision's JSON (reply size alone);
 *   floor        the bare app doing only what ANY gate must do per request, with no
 *                decision logic: check the key (SHA-256 + timingSafeEqual), validate
 *                the body with the route's zod schema, mint an id and a timestamp, answer
 *                with a decision-sized reply and keep a record string;
 *   decide-only  the bare app doing only the decision: evaluatePretrade on the same
 *                market and the decision JSON (no auth, validation, audit or logger).
 * --profile DIR runs each server child under `--cpu-prof`, writing DIR/<target>/*.cpuprofile.
 *
 * On a 2-core machine the load generator and the server under test each take one core;
 * the idle targets wait. The gate runs with LOG_LEVEL=warn (no per-request log lines)
 * and the bare app with no logger: the comparison is of request handling, not log I/O.
 * The order carries no clientOrderId (the hot path: no store round trip).
 *
 * Measured on the 2-core VM, 2026-11-24, `npm run bench:pretrade -- --diagnostics`
 * (50 connections, 3 s warm-up, 3 alternating rounds of 10 s, medians; single rounds
 * vary by +-20%; this VM ran ~2x slower per request than the one of the earlier runs):
 *   gate 8.1k req/s (p50 5 ms, p99 18 ms, 116 µs of event loop per request),
 *   bare 29.5k (p50 1, p99 4, 32 µs): 27.3% (rounds 25.6, 27.6, 27.6%);
 *   plumbing 68%, sized 95%, floor 47% (57% in a later run with a 10k record
 *   array instead of 100k), decide-only 51% (61%).
 *   Last run, after the rule fixes (`-- --targets floor,decide-only`, same settings):
 *   gate 9.4k req/s (p50 5, p99 19 ms) vs bare 31.9k (p50 1, p99 4): 29.5% (rounds 29.5,
 *   31.2, 29.2%); floor 46.6%, decide-only 38.5%.
 * Earlier runs on a faster VM: gate 16.2k-18.1k req/s vs bare 50.9k-63.0k, 27-33%.
 * BELOW the 80% target, and out of reach here for any gate that authenticates,
 * validates and records each decision: `floor`, which does only that, keeps about half
 * of bare, and the decision alone (`decide-only`) about as much. A bare request is
 * ~30 µs of event loop here, of which the response's socket write (writev on loopback)
 * is ~15-20; 80% leaves a gate ~8 µs for everything it adds. Under load each piece costs
 * 3-4x its micro-benchmark figure (zod ~2 µs, evaluatePretrade ~4, the decision JSON ~4,
 * SHA-256 ~1 in a tight loop on this VM), most likely because the load generator shares
 * the machine's caches and cores.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { BENCH_KEY, BENCH_ORDER } from './bench-fixtures.js';
import { median as medianOrNull } from '../src/lib/math.js';

type Kind = 'gate' | 'bare' | 'plumbing' | 'sized' | 'decide-only' | 'floor';

interface Target {
  kind: Kind;
  label: string;
  url: string;
  headers: Record<string, string>;
  child: ChildProcess;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  /** Server CPU time per request, µs (user + system, from the child's process.cpuUsage). */
  cpuPerReq: number;
  /** The same for the event-loop thread alone (without V8's GC helper threads). */
  loopCpuPerReq: number;
}

const SERVER = fileURLToPath(new URL('./bench-server.ts', import.meta.url));
const AUTH = { authorization: `Bearer ${BENCH_KEY}` };

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
  switch (kind) {
    case 'gate':
      return { kind, label: 'gate', url: `${base}/pretrade-check`, headers: AUTH, child };
    case 'bare':
      return { kind, label: 'bare echo', url: `${base}/echo`, headers: {}, child };
    case 'plumbing':
      return { kind, label: 'app plumbing, echo', url: `${base}/bench-echo`, headers: AUTH, child };
    case 'sized':
      return { kind, label: 'bare, decision reply', url: `${base}/decision-sized`, headers: {}, child };
    case 'floor':
      return { kind, label: 'bare + per-request minimum', url: `${base}/floor`, headers: AUTH, child };
    case 'decide-only':
      return { kind, label: 'bare + decision only', url: `${base}/decide-only`, headers: {}, child };
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

interface Cpu {
  cpuUs: number;
  mainCpuUs: number;
}

/** The child's CPU time so far (µs, user + system): the whole process, and its event-loop thread. */
function cpuUs(t: Target): Promise<Cpu> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof m !== 'object' || m === null || !('cpuUs' in m)) return;
      t.child.off('message', on);
      resolve(m as Cpu);
    };
    t.child.on('message', on);
    t.child.send('cpu');
  });
}

async function load(t: Target, connections: number, duration: number): Promise<Figures> {
  const cpu0 = await cpuUs(t);
  const r = await autocannon({
    url: t.url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...t.headers },
    body: JSON.stringify(BENCH_ORDER),
  });
  const cpu1 = await cpuUs(t);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bad: r.non2xx + r.errors + r.timeouts,
    cpuPerReq: (cpu1.cpuUs - cpu0.cpuUs) / Math.max(1, r.requests.total),
    loopCpuPerReq: (cpu1.mainCpuUs - cpu0.mainCpuUs) / Math.max(1, r.requests.total),
  };
}

const median = (xs: number[]): number => medianOrNull(xs) ?? NaN;

function row(name: string, f: Figures): string {
  return `${name.padEnd(30)} ${f.rps.toFixed(0).padStart(9)} ${String(f.p50).padStart(8)} ${String(f.p99).padStart(8)} ${f.cpuPerReq.toFixed(1).padStart(12)} ${f.loopCpuPerReq.toFixed(1).padStart(13)} ${String(f.bad).padStart(8)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      'audit-max': { type: 'string', default: '100000' },
      diagnostics: { type: 'boolean', default: false },
      profile: { type: 'string' },
      targets: { type: 'string' },
    },
  });
  const connections = Number(values.connections);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const rounds = Math.max(1, Number(values.rounds));
  const profileDir = values.profile;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const all: Kind[] = ['gate', 'bare', 'plumbing', 'sized', 'decide-only', 'floor'];
  const extra = values.targets?.split(',').map((t) => t.trim()) ?? (values.diagnostics ? all : []);
  const unknown = extra.filter((t) => !all.includes(t as Kind));
  if (unknown.length > 0) throw new Error(`unknown --targets ${unknown.join(', ')} (known: ${all.join(', ')})`);
  // The gate and the bare route always run: the ratio between them is the point.
  const kinds: Kind[] = ['gate', 'bare', ...(extra as Kind[]).filter((k) => k !== 'gate' && k !== 'bare')];
  const has = (k: Kind) => kinds.includes(k);
  const targets: Target[] = [];
  try {
    for (const k of kinds) targets.push(await start(k, values['audit-max'], profileDir));
    const gate = targets[0]!;

    // A sanity check: the gate answers with a real decision.
    const probe = await fetch(gate.url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: JSON.stringify(BENCH_ORDER) });
    const decision = (await probe.json()) as { decision?: string; reasons?: { code: string }[]; warnings?: { code: string }[] };
    console.log(
      `probe: HTTP ${probe.status}, decision ${decision.decision}, reasons [${(decision.reasons ?? []).map((r) => r.code).join(', ')}], warnings [${(decision.warnings ?? []).map((r) => r.code).join(', ')}]`,
    );
    if (probe.status !== 200) throw new Error('the gate did not answer 200: not benchmarking an error path');

    console.log(
      `one process per server, load from this process; warm-up ${warmup} s each, then ${rounds} alternating rounds of ${duration} s per target, ${connections} connections, body ${JSON.stringify(BENCH_ORDER)}`,
    );
    for (const t of targets) await load(t, connections, warmup);

    const runs = new Map<Kind, Figures[]>(kinds.map((k) => [k, []]));
    console.log(`\n${'target'.padEnd(30)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'cpu µs/req'.padStart(12)} ${'loop µs/req'.padStart(13)} ${'non-2xx'.padStart(8)}`);
    for (let i = 1; i <= rounds; i++) {
      for (const t of targets) {
        const f = await load(t, connections, duration);
        runs.get(t.kind)!.push(f);
        console.log(row(`${t.label} (round ${i})`, f));
      }
    }

    const med = (k: Kind): Figures => {
      const fs = runs.get(k) ?? [];
      return {
        rps: median(fs.map((f) => f.rps)),
        p50: median(fs.map((f) => f.p50)),
        p99: median(fs.map((f) => f.p99)),
        bad: fs.reduce((a, f) => a + f.bad, 0),
        cpuPerReq: median(fs.map((f) => f.cpuPerReq)),
        loopCpuPerReq: median(fs.map((f) => f.loopCpuPerReq)),
      };
    };
    console.log(`\nmedians over ${rounds} rounds`);
    for (const t of targets) console.log(row(t.label, med(t.kind)));
    const g = med('gate');
    const b = med('bare');
    const ratio = g.rps / b.rps;
    const perRound = (runs.get('gate') ?? []).map((f, i) => f.rps / (runs.get('bare')?.[i]?.rps ?? NaN));
    console.log(
      `\ngate/bare throughput: ${(ratio * 100).toFixed(1)}% (median req/s; per round ${perRound.map((r) => `${(r * 100).toFixed(1)}%`).join(', ')}; target >= 80%) ${ratio >= 0.8 ? 'PASS' : 'BELOW TARGET'}`,
    );
    console.log(
      `server CPU per request: gate ${g.cpuPerReq.toFixed(1)} µs (event loop ${g.loopCpuPerReq.toFixed(1)}), bare ${b.cpuPerReq.toFixed(1)} µs (event loop ${b.loopCpuPerReq.toFixed(1)}); bare/gate ${((b.cpuPerReq / g.cpuPerReq) * 100).toFixed(1)}%`,
    );
    const pct = (k: Kind) => `${((med(k).rps / b.rps) * 100).toFixed(1)}%`;
    if (has('plumbing')) console.log(`app plumbing (auth, request id, logger) echo / bare: ${pct('plumbing')}`);
    if (has('sized')) console.log(`bare with a decision-sized reply / bare: ${pct('sized')}`);
    if (has('floor')) console.log(`bare + per-request minimum (key check, zod, id, record; no decision) / bare: ${pct('floor')}`);
    if (has('decide-only')) console.log(`bare + decision only (no auth, validation, audit, logger) / bare: ${pct('decide-only')}`);
    if (g.bad + b.bad > 0) console.log(`WARNING: ${g.bad + b.bad} non-2xx responses or errors during the measured runs`);
  } finally {
    await Promise.all(targets.map(stop));
    if (profileDir) console.log(`CPU profiles written to ${profileDir}/<target>/ (the main thread's is the *.0.001.cpuprofile)`);
  }
}

await main();
