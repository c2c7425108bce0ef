import { DeferredByBudgetError } from '../../src/market/market-source.js';
import { buildCcxtHarness, NOW, type CcxtHarness } from './ccxt-fake.js';
import { startWsReplay, type WsReplay } from './ws-replay.js';

/**
 * Polls many symbols on one fake venue as the pollers would (bars since the last one,
 * then a tick, every symbol every `pollMs`), on a simulated clock of its own that only
 * the request budget's waits and the poll cadence move, so the fake venue's request
 * timestamps are what the venue would see. Streamed books come from a local ws replay.
 */

export interface SimRun {
  h: CcxtHarness;
  ws: WsReplay | undefined;
  deferred: number;
  ticks: number;
  ticksWithBook: number;
  cycles: number;
  barsBySymbol: Map<string, number>;
}

export const manySymbols = (n: number): string[] => Array.from({ length: n }, (_, i) => `Z${String(i).padStart(3, '0')}USDT`);

/**
 * Discrete-event time: sleepers wake in order of their end times, and the clock jumps to
 * the next end only once nothing else can run (several event-loop turns with no progress),
 * so sleepers started together (the budget's two lanes) overlap as they would in real time.
 */
async function settle(work: Promise<unknown>, timers: { at: number; wake: () => void }[], setNow: (t: number) => void): Promise<void> {
  let done = false;
  void work.then(
    () => (done = true),
    () => (done = true),
  );
  let idle = 0;
  let last = timers.length;
  while (!done) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    if (timers.length !== last) {
      last = timers.length;
      idle = 0;
      continue;
    }
    if (timers.length === 0 || ++idle < 5) continue;
    timers.sort((a, b) => a.at - b.at);
    const t = timers.shift()!;
    setNow(t.at);
    t.wake();
    last = timers.length;
    idle = 0;
  }
  await work;
}

export async function simulateVenue(
  venue: string,
  o: { symbols: string[]; pollMs: number; minutes: number; onCycle?: (startedAt: number, cpu: NodeJS.CpuUsage) => void },
): Promise<SimRun> {
  let now = NOW;
  const timers: { at: number; wake: () => void }[] = [];
  const ws = venue === 'bybit' ? undefined : await startWsReplay(venue);
  const h = await buildCcxtHarness(venue, {
    symbols: o.symbols,
    listed: o.symbols,
    clock: () => now,
    sleep: (ms) => new Promise<void>((wake) => timers.push({ at: now + ms, wake })),
    pollIntervalMs: o.pollMs,
    options: ws ? { streamUrls: { [venue]: ws.url } } : {},
  });
  const run: SimRun = { h, ws, deferred: 0, ticks: 0, ticksWithBook: 0, cycles: 0, barsBySymbol: new Map() };
  const since = new Map<string, number | undefined>();
  const end = NOW + o.minutes * 60_000;
  while (now < end) {
    const cycleStart = now;
    const cpu0 = process.cpuUsage();
    run.cycles += 1;
    const cycle = Promise.all(
      o.symbols.map(async (symbol) => {
        try {
          const bars = await h.source.fetchBars(symbol, venue, since.get(symbol));
          if (bars.length > 0) since.set(symbol, bars[bars.length - 1]!.ts);
          run.barsBySymbol.set(symbol, (run.barsBySymbol.get(symbol) ?? 0) + bars.length);
        } catch (err) {
          if (!(err instanceof DeferredByBudgetError)) throw err;
          run.deferred += 1;
        }
        const tick = await h.source.fetchTick(symbol, venue);
        run.ticks += 1;
        if (tick.orderBook && tick.orderBook.bids.length > 0) run.ticksWithBook += 1;
      }),
    );
    await settle(cycle, timers, (t) => (now = Math.max(now, t)));
    o.onCycle?.(cycleStart, process.cpuUsage(cpu0));
    now = Math.max(now, cycleStart + o.pollMs);
  }
  return run;
}

/** Highest total cost inside any window of `windowMs` (requests in time order). */
export function peakInWindow(at: readonly number[], costs: readonly number[], windowMs: number): number {
  let peak = 0;
  let sum = 0;
  let lo = 0;
  for (let hi = 0; hi < at.length; hi++) {
    sum += costs[hi]!;
    while (at[lo]! <= at[hi]! - windowMs) sum -= costs[lo++]!;
    peak = Math.max(peak, sum);
  }
  return peak;
}

export async function closeRun(r: SimRun): Promise<void> {
  await r.h.source.close();
  await r.ws?.close();
}
