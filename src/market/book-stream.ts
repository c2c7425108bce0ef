import type { Exchange, OrderBook as CcxtOrderBook } from 'ccxt';
import type { Logger } from 'pino';

/**
 * Order books over a venue's websocket through ccxt pro's `watchOrderBook`: one watch loop
 * per symbol, started on the first read, keeps the latest book; a read returns it at once
 * (or waits for the first one). Used where polling every symbol's book would not fit the
 * venue's request budget.
 */
export class BookStream {
  private readonly latest = new Map<string, { book: CcxtOrderBook; at: number }>();
  private readonly first = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly ex: Exchange,
    /** Levels to ask the venue for; undefined: the venue's default channel. */
    private readonly depth: number | undefined,
    private readonly deps: { clock: () => number; logger: Logger },
    /** Settles when the exchange may open its socket. */
    private readonly ready: Promise<unknown> = Promise.resolve(),
  ) {}

  /** The latest book for `unified` and when it arrived; waits for the first one at most `waitMs`. */
  async read(unified: string, waitMs: number): Promise<{ book: CcxtOrderBook; at: number } | undefined> {
    if (!this.first.has(unified)) this.first.set(unified, this.watch(unified));
    const have = this.latest.get(unified);
    if (have) return have;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.first.get(unified), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]).finally(() => clearTimeout(timer));
    return this.latest.get(unified);
  }

  /** Resolves with the first book; keeps watching in the background until closed. */
  private watch(unified: string): Promise<void> {
    return new Promise<void>((resolveFirst) => {
      const loop = async () => {
        let failures = 0;
        await this.ready.catch(() => undefined);
        while (!this.closed) {
          try {
            const book = await this.ex.watchOrderBook(unified, this.depth);
            this.latest.set(unified, { book, at: this.deps.clock() });
            failures = 0;
            resolveFirst();
          } catch (err) {
            if (this.closed) break;
            failures += 1;
            this.deps.logger.warn({ venue: this.ex.id, symbol: unified, err: err instanceof Error ? err.message : String(err) }, 'order book stream failed; resubscribing');
            // A real timer: this loop runs in the background, whatever clock the caller injects.
            await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(failures, 6))).unref());
          }
        }
        resolveFirst();
      };
      void loop();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ex.close().catch(() => undefined);
  }
}
