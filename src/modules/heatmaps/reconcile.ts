import type { Logger } from 'pino';
import type { HeatmapCache } from './cache.js';
import type { PollerStatus } from './poller.js';
import type { StatusBoard } from './status-board.js';

/**
 * Every `everyMs`: re-reads the latest map of every symbol (repairing announcements missed
 * while the subscriber was reconnecting; one GET per symbol) and the leader's poll status
 * of the symbols this replica does not poll. A failed round is logged at debug and the
 * next one tries again.
 */
export class ReconcileLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private remoteStatus = new Map<string, PollerStatus>();

  constructor(
    private readonly o: {
      symbols: string[];
      everyMs: number;
      cache: HeatmapCache;
      board: StatusBoard;
      /** Whether this replica polls the symbol itself (its own status is then first-hand). */
      polls(symbol: string): boolean;
      logger: Logger;
    },
  ) {}

  /** The leader's status of a symbol this replica does not poll, as last read from the board. */
  remote(symbol: string): PollerStatus | undefined {
    return this.remoteStatus.get(symbol);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      const { symbols, cache, board } = this.o;
      Promise.all([
        cache.reconcile(symbols),
        board.read(symbols.filter((s) => !this.o.polls(s))).then((m) => {
          this.remoteStatus = m;
        }),
      ])
        .catch((err: Error) => this.o.logger.debug({ err: err.message }, 'heatmap reconcile failed'))
        .finally(() => {
          if (this.running) this.schedule();
        });
    }, this.o.everyMs);
    this.timer.unref();
  }
}
