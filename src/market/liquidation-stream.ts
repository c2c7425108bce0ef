import type { Exchange, Liquidation } from 'ccxt';
import type { Logger } from 'pino';
import type { RealizedLiquidation } from '../domain/market-data.js';
import type { VenueProfile } from './venue-profile.js';

/** Events kept per symbol between two reads (a poll reads every few seconds; venues push at most a few a second). */
const BUFFER = 2_000;

/**
 * Realized liquidations over a venue's public websocket through ccxt pro: one watch loop
 * per symbol, started on the first read, keeps the subscription. What arrives is taken from
 * ccxt's own cache (the exchange is built with `newUpdates: false`, so a watch hands back
 * all of it, and every read looks at it too): ccxt resolves a watch with only the first of
 * several events pushed together, and one pushed while no watch waits resolves no one.
 * Entries already taken are recognised by identity (ccxt keeps the objects it parsed).
 */
export class LiquidationStream {
  private readonly buffers = new Map<string, RealizedLiquidation[]>();
  private readonly taken = new WeakSet<object>();
  private closed = false;

  constructor(
    private readonly ex: Exchange,
    private readonly profile: VenueProfile,
    private readonly deps: { logger: Logger },
    /** Settles when the exchange may open its socket. */
    private readonly ready: Promise<unknown> = Promise.resolve(),
  ) {}

  /** What arrived for `unified` after `sinceMs`, oldest first; the first read starts the stream (and returns none). */
  read(unified: string, sinceMs: number | undefined): RealizedLiquidation[] {
    let buffer = this.buffers.get(unified);
    if (!buffer) {
      buffer = [];
      this.buffers.set(unified, buffer);
      void this.watch(unified, buffer);
    }
    const cache = (this.ex as unknown as { liquidations?: Liquidation[] }).liquidations;
    if (Array.isArray(cache)) this.take(unified, cache.filter((l) => l.symbol === unified), buffer);
    const since = sinceMs ?? -Infinity;
    return buffer.filter((e) => e.ts > since).map((e) => ({ ...e }));
  }

  private async watch(unified: string, buffer: RealizedLiquidation[]): Promise<void> {
    let failures = 0;
    await this.ready.catch(() => undefined);
    while (!this.closed) {
      try {
        const cached = await this.profile.watchLiquidations(this.ex, unified);
        this.take(unified, Array.isArray(cached) ? (cached as Liquidation[]) : [], buffer);
        failures = 0;
      } catch (err) {
        if (this.closed) break;
        failures += 1;
        this.deps.logger.warn({ venue: this.ex.id, symbol: unified, err: err instanceof Error ? err.message : String(err) }, 'liquidation stream failed; resubscribing');
        // A real timer: this loop runs in the background, whatever clock the caller injects.
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(failures, 6))).unref());
      }
    }
  }

  private take(unified: string, cached: readonly Liquidation[], buffer: RealizedLiquidation[]): void {
    let added = false;
    // ccxt's parsed liquidation loses the contract size on some venues: take the market's.
    const contractSize = this.ex.markets?.[unified]?.contractSize ?? 1;
    for (const l of cached) {
      if (this.taken.has(l)) continue;
      this.taken.add(l);
      for (const e of this.profile.realizedLiquidations(l, contractSize)) buffer.push({ ...e, venue: this.ex.id });
      added = true;
    }
    if (!added) return;
    buffer.sort((a, b) => a.ts - b.ts);
    if (buffer.length > BUFFER) buffer.splice(0, buffer.length - BUFFER);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ex.close().catch(() => undefined);
  }
}
