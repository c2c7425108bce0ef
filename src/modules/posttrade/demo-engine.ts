import type { Logger } from 'pino';
import { estimateSlippageBps } from '../../domain/pretrade/slippage.js';
import { Prng } from '../../market/prng.js';
import type { HeatmapReader, PretradeModule } from '../module.js';
import type { FillIntake } from './routes.js';

/**
 * The demo's execution engine (simulator only): it trades through the gate like a real
 * engine would, so a newcomer sees post-trade reports within minutes. Every tick it either
 * opens a position on a symbol with none (a market order of a random size, 10x leverage)
 * or closes one it has held for a while (reduce-only). An approved order fills at once,
 * at the volume-weighted price of walking the simulator's displayed book (the book the
 * gate scaled down for time of day and cluster proximity: realized and predicted slippage
 * differ, which is what the calibration report is for). Rejected orders are not retried.
 */
export interface DemoEngineDeps {
  symbols: string[];
  reader: HeatmapReader;
  pretrade: Pick<PretradeModule, 'check'>;
  intake: FillIntake;
  clock: () => number;
  logger: Logger;
  seed: number;
  tickMs: number;
  holdMs: number;
}

const ACCOUNT = 'demo-engine';
const NOTIONALS_USD = [50_000, 150_000, 400_000];

interface Position {
  side: 'buy' | 'sell';
  quantity: number;
  openedAt: number;
}

export class DemoEngine {
  private readonly rng: Prng;
  private readonly open = new Map<string, Position>();
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  /** Orders sent and fills reported, for tests and logs. */
  readonly counts = { orders: 0, fills: 0, rejected: 0 };

  constructor(private readonly d: DemoEngineDeps) {
    this.rng = new Prng(d.seed, 'demo-engine');
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.step()
          .catch((err: unknown) => this.d.logger.warn({ err: (err as Error).message }, 'demo engine step failed'))
          .finally(() => {
            if (this.timer !== null) tick();
          });
      }, this.d.tickMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** One trading decision: close a held position that is old enough, else open one. */
  async step(): Promise<void> {
    const now = this.d.clock();
    const symbol = this.d.symbols[Math.floor(this.rng.next() * this.d.symbols.length)];
    if (!symbol) return;
    const pos = this.open.get(symbol);
    if (pos && now - pos.openedAt < this.d.holdMs) return;
    const snap = this.d.reader.get(symbol);
    if (!snap?.orderBook) return;
    const closing = pos !== undefined;
    const side: Position['side'] = pos ? (pos.side === 'buy' ? 'sell' : 'buy') : this.rng.next() < 0.5 ? 'buy' : 'sell';
    const order = {
      symbol,
      side,
      orderType: 'market' as const,
      reduceOnly: closing,
      accountId: ACCOUNT,
      ...(pos ? { quantity: pos.quantity } : { notional: NOTIONALS_USD[Math.floor(this.rng.next() * NOTIONALS_USD.length)]!, leverage: 10 }),
    };
    this.counts.orders++;
    const decision = await this.d.pretrade.check(order, ACCOUNT);
    if (!decision || decision.decision === 'REJECT' || !(decision.approvedQuantity > 0)) {
      this.counts.rejected++;
      if (pos) this.open.delete(symbol); // the demo gives up on a close the gate refused (it only rejects closes on bad input)
      return;
    }
    const walk = estimateSlippageBps(snap.orderBook, side, decision.approvedQuantity, 1);
    if (walk.averagePrice === null) return;
    const quantity = Math.min(decision.approvedQuantity, walk.filledQuantity);
    await this.d.intake(
      {
        fillId: `demo-${now}-${++this.seq}`,
        decisionId: decision.decisionId,
        accountId: ACCOUNT,
        symbol,
        side,
        quantity,
        price: walk.averagePrice,
        executedAt: new Date(now).toISOString(),
        reducesPosition: closing,
      },
      ACCOUNT,
      this.d.logger,
    );
    this.counts.fills++;
    if (closing) this.open.delete(symbol);
    else this.open.set(symbol, { side, quantity, openedAt: now });
  }
}
