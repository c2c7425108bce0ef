import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { TradingState } from '../../domain/pretrade/types.js';

/**
 * The break-glass halt: a file each replica reads every HALT_FILE_POLL_MS, so an operator
 * can halt a running replica without Redis and without a restart (polled: fs.watch misses
 * changes on some volumes). It can only tighten the trading state, never loosen it.
 *
 * Format (README, "Trading state"): one setting per line, `[SYMBOL] STATE [reason]`, STATE
 * HALTED or REDUCING; `#` starts a comment. No file: no break-glass halt. A file with no
 * setting (an empty `touch`) halts globally. Anything unreadable or invalid (an unknown
 * word or symbol, ACTIVE) halts globally too: the operator meant to stop something.
 */

export interface HaltFileState {
  global: TradingState | null;
  symbols: Record<string, TradingState>;
  /** Null when the file sets nothing (absent); else what it does and any problem, for the admin view and readiness. */
  detail: string | null;
}

const NONE: HaltFileState = Object.freeze({ global: null, symbols: {}, detail: null });
const RANK: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/** The stricter of two states (null: not set). */
export function stricter(a: TradingState | null, b: TradingState | null): TradingState | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[b] > RANK[a] ? b : a;
}

export function parseHaltFile(text: string, symbols: readonly string[]): HaltFileState {
  let global: TradingState | null = null;
  const bySymbol: Record<string, TradingState> = {};
  const problems: string[] = [];
  const settings: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [first = '', second = ''] = line.split(/\s+/);
    if (first === 'HALTED' || first === 'REDUCING') {
      global = stricter(global, first);
      settings.push(`global ${first}`);
    } else if (symbols.includes(first) && (second === 'HALTED' || second === 'REDUCING')) {
      bySymbol[first] = stricter(bySymbol[first] ?? null, second) as TradingState;
      settings.push(`${first} ${second}`);
    } else {
      problems.push(`line ${i + 1} "${line.slice(0, 80)}" is not "[SYMBOL] HALTED|REDUCING [reason]" for a configured symbol`);
    }
  });
  if (settings.length === 0 && problems.length === 0) problems.push('the file sets nothing');
  if (problems.length > 0) global = 'HALTED';
  const does = problems.length > 0 ? 'global HALTED' : settings.join(', ');
  return { global, symbols: bySymbol, detail: `break-glass halt file: ${does}${problems.length ? ` (${problems.join('; ')})` : ''}` };
}

export class HaltFile {
  private state: HaltFileState = NONE;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | null = null;

  constructor(
    readonly path: string,
    private readonly symbols: readonly string[],
    private readonly logger: Logger,
    private readonly read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
  ) {}

  /** What the file sets for `symbol` (null: nothing). */
  current(symbol: string): { global: TradingState | null; symbol: TradingState | null } {
    return { global: this.state.global, symbol: this.state.symbols[symbol] ?? null };
  }

  view(): HaltFileState {
    return this.state;
  }

  /** Reads the file once (concurrent calls share the read). */
  poll(): Promise<void> {
    this.reading ??= this.readOnce().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  /** Reads now, then every `intervalMs` until stop(). */
  async start(intervalMs: number): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async readOnce(): Promise<void> {
    let next: HaltFileState;
    try {
      next = parseHaltFile(await this.read(this.path), this.symbols);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      next =
        code === 'ENOENT'
          ? NONE
          : { global: 'HALTED', symbols: {}, detail: `break-glass halt file: global HALTED (cannot read it: ${code ?? (err as Error).message})` };
    }
    if (next.detail === this.state.detail) return;
    this.state = next;
    if (next.detail === null) this.logger.warn({ haltFile: this.path }, 'break-glass halt file removed: the stored trading state applies again');
    else this.logger.error({ haltFile: this.path, haltFileState: next.detail }, 'break-glass halt file in force');
  }
}
