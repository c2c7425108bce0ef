import type { Logger } from 'pino';
import { TransientMarketError, UnknownSymbolError } from './market-source.js';

/**
 * Bounded retry with exponential backoff and jitter, shared by the sources that talk to
 * the network. The source retries a few times within one poll; failures that outlast
 * that become `TransientMarketError`, and the poller's own per-venue backoff and circuit
 * breaker take over across polls.
 */

export interface RetryPolicy {
  /** Total attempts, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 5_000 };

export interface RetryDeps {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  logger: Logger;
}

/** How the caller classifies a failure. */
export type Classified =
  | { kind: 'transient'; retryAfterMs?: number | undefined; message: string }
  | { kind: 'unknown-symbol' }
  | { kind: 'fatal' };

/** Delay before retry number `retry` (0-based): base·2^retry, "equal jitter" in [½, 1] of it, capped. */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(ceiling * (0.5 + 0.5 * random()));
}

export async function withRetry<T>(
  op: () => Promise<T>,
  ctx: { venue: string; symbol: string; what: string },
  classify: (err: unknown) => Classified,
  deps: RetryDeps,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      const c = classify(err);
      if (c.kind === 'unknown-symbol') throw new UnknownSymbolError(ctx.symbol, ctx.venue);
      if (c.kind === 'fatal') throw err;
      const last = attempt + 1 >= policy.attempts;
      // A venue that asks for a longer pause than we are willing to wait inside one poll
      // gets it from the poller instead: give up now and pass the hint on.
      const hintTooLong = c.retryAfterMs !== undefined && c.retryAfterMs > policy.maxDelayMs;
      if (last || hintTooLong) {
        throw new TransientMarketError(
          `${ctx.venue} ${ctx.what} ${ctx.symbol}: ${c.message} (after ${attempt + 1} attempt(s))`,
          ctx.venue,
          c.retryAfterMs,
        );
      }
      const delay = Math.max(c.retryAfterMs ?? 0, backoffDelayMs(policy, attempt, deps.random));
      deps.logger.warn(
        { venue: ctx.venue, symbol: ctx.symbol, what: ctx.what, attempt: attempt + 1, delayMs: delay, err: c.message },
        'market request failed; retrying',
      );
      await deps.sleep(delay);
    }
  }
}
