import type { RequestCost, RequestLimit } from './venue-profile.js';

/**
 * One venue's request budget, shared by every symbol's calls: each of the venue's published
 * limits (weight or requests per window, per IP) scaled down by a safety margin, kept as a
 * sliding window of what was spent. `take` waits, first come first served, until the cost
 * fits every limit; so no window of any limit's length ever holds more than its budget.
 * Two lanes: history (`background`) queues behind history only, so a tick or a book is
 * never stuck behind a long history walk; both lanes spend from the same windows.
 * Time and sleeping are injected (tests run a simulated clock).
 */

export type BudgetLane = 'foreground' | 'background';

export interface RequestBudgetOptions {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Fraction of each published limit left unused (retries elsewhere, other processes on the IP). */
  safetyMargin: number;
}

export interface LimitUsage {
  /** Spent in the current window. */
  used: number;
  /** What this service allows itself per window (the published limit less the margin). */
  budget: number;
  /** The venue's published limit per window. */
  published: number;
  windowMs: number;
}

interface Spend {
  ts: number;
  weight: number;
}

export class RequestBudget {
  private readonly budgets: Record<string, number>;
  private readonly spends = new Map<string, Spend[]>();
  private readonly tails: Record<BudgetLane, Promise<void>> = { foreground: Promise.resolve(), background: Promise.resolve() };
  /** Requests that had to wait, and for how long in all (ms). */
  waits = 0;
  waitedMs = 0;

  constructor(
    private readonly limits: Readonly<Record<string, RequestLimit>>,
    private readonly o: RequestBudgetOptions,
  ) {
    this.budgets = Object.fromEntries(Object.entries(limits).map(([k, l]) => [k, Math.max(1, Math.floor(l.limit * (1 - o.safetyMargin)))]));
    for (const k of Object.keys(limits)) this.spends.set(k, []);
  }

  private prune(name: string, now: number): Spend[] {
    const windowMs = this.limits[name]!.windowMs;
    const list = this.spends.get(name)!;
    let i = 0;
    while (i < list.length && list[i]!.ts <= now - windowMs) i++;
    if (i > 0) list.splice(0, i);
    return list;
  }

  /** How long until `cost` fits every limit (0: now). A cost above a whole budget fits an empty window. */
  waitMs(cost: RequestCost): number {
    const now = this.o.clock();
    let wait = 0;
    for (const [name, weight] of Object.entries(cost)) {
      if (!this.limits[name] || weight <= 0) continue;
      const list = this.prune(name, now);
      const budget = this.budgets[name]!;
      let used = list.reduce((s, x) => s + x.weight, 0);
      const need = Math.min(weight, budget);
      for (const x of list) {
        if (used + need <= budget) break;
        used -= x.weight;
        wait = Math.max(wait, x.ts + this.limits[name]!.windowMs - now);
      }
    }
    return wait;
  }

  /** Waits (in arrival order within its lane) until `cost` fits, then spends it. */
  take(cost: RequestCost, lane: BudgetLane = 'foreground'): Promise<void> {
    const run = async () => {
      let first = true;
      for (;;) {
        const wait = this.waitMs(cost);
        if (wait <= 0) break;
        if (first) this.waits += 1;
        first = false;
        this.waitedMs += wait;
        await this.o.sleep(wait);
      }
      const now = this.o.clock();
      for (const [name, weight] of Object.entries(cost)) {
        if (this.limits[name] && weight > 0) this.spends.get(name)!.push({ ts: now, weight });
      }
    };
    const turn = this.tails[lane].then(run);
    this.tails[lane] = turn.catch(() => undefined);
    return turn;
  }

  /** Highest share of any limit's budget spent in its current window (0..1+). */
  pressure(): number {
    const now = this.o.clock();
    let p = 0;
    for (const name of Object.keys(this.limits)) {
      const used = this.prune(name, now).reduce((s, x) => s + x.weight, 0);
      p = Math.max(p, used / this.budgets[name]!);
    }
    return p;
  }

  usage(): Record<string, LimitUsage> {
    const now = this.o.clock();
    return Object.fromEntries(
      Object.entries(this.limits).map(([name, l]) => [
        name,
        { used: this.prune(name, now).reduce((s, x) => s + x.weight, 0), budget: this.budgets[name]!, published: l.limit, windowMs: l.windowMs },
      ]),
    );
  }
}
