import type { Clock } from '../../domain/clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open' | 'misconfigured';

export interface VenueHealthOptions {
  /** First retry delay after a failure. */
  baseBackoffMs: number;
  /** Longest retry delay while the breaker is closed. */
  maxBackoffMs: number;
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long an open breaker waits before one trial call (half-open). */
  cooldownMs: number;
}

export interface VenueStatus {
  venue: string;
  state: BreakerState;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastError: string | null;
  /** Epoch ms before which the venue is not called, or null when it may be called now. */
  retryAt: number | null;
}

/**
 * Per-venue retry discipline: exponential backoff with jitter after each failure, a
 * circuit breaker that opens after `failureThreshold` consecutive failures and lets one
 * trial call through after `cooldownMs` (half-open), and a terminal `misconfigured` state
 * for a symbol the venue does not list (reported, never retried).
 */
export class VenueHealth {
  private state: BreakerState = 'closed';
  private failures = 0;
  private nextAttemptAt = 0;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;

  constructor(
    readonly venue: string,
    private readonly opts: VenueHealthOptions,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether the venue may be called now; moves an open breaker whose cool-down is over to half-open. */
  canAttempt(): boolean {
    if (this.state === 'misconfigured') return false;
    const now = this.clock();
    if (now < this.nextAttemptAt) return false;
    if (this.state === 'open') this.state = 'half_open';
    return true;
  }

  recordSuccess(): void {
    if (this.state === 'misconfigured') return;
    this.state = 'closed';
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.lastSuccessAt = this.clock();
  }

  recordFailure(message: string, retryAfterMs?: number): void {
    if (this.state === 'misconfigured') return;
    const now = this.clock();
    this.failures += 1;
    this.lastError = message;
    if (this.state === 'half_open' || this.failures >= this.opts.failureThreshold) {
      this.state = 'open';
      this.nextAttemptAt = now + Math.max(this.opts.cooldownMs, retryAfterMs ?? 0);
      return;
    }
    const exp = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** (this.failures - 1));
    // "Equal jitter": half fixed, half random, so replicas and symbols spread out.
    const delay = exp / 2 + (this.random() * exp) / 2;
    this.nextAttemptAt = now + Math.max(delay, retryAfterMs ?? 0);
  }

  markMisconfigured(message: string): void {
    this.state = 'misconfigured';
    this.lastError = message;
    this.failures += 1;
  }

  get breaker(): BreakerState {
    return this.state;
  }

  status(): VenueStatus {
    const now = this.clock();
    return {
      venue: this.venue,
      state: this.state,
      consecutiveFailures: this.failures,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      retryAt: this.state !== 'misconfigured' && this.nextAttemptAt > now ? this.nextAttemptAt : null,
    };
  }
}
