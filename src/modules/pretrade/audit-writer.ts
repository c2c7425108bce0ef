import type { Logger } from 'pino';
import { within } from '../../lib/async.js';
import type { AuditEntry, AuditLog } from '../../stores/audit-log.js';

export interface AuditWriterOptions {
  /** Cap on records waiting to be written; past it the gate refuses new checks (503). */
  maxPending: number;
  /** Records per append. */
  batchSize: number;
  /** First retry delay after a failed append; doubles up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * Writes audit records off the response path. `enqueue` is synchronous and O(1); a
 * flush loop appends batches in order and, when the log fails, retries the same batch
 * with exponential backoff, so a brief store outage delays records but loses none.
 *
 * Over the cap, NEW CHECKS are refused (503) rather than any waiting record dropped:
 * every waiting record belongs to a decision a client has received, and the gate must
 * not hand out decisions it cannot record (fail closed).
 * `stop()` flushes until empty or the deadline; whatever still could not be written is
 * logged in full at error level, the last durable place left.
 */
export class AuditWriter {
  private pending: AuditEntry[] = [];
  /** The same waiting records by decision id. */
  private readonly byId = new Map<string, AuditEntry>();
  private flushing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private backoffMs = 0;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly log: AuditLog,
    private readonly logger: Logger,
    private readonly opts: AuditWriterOptions,
  ) {}

  /**
   * Queues a record. Never refuses: the caller checks `hasRoom` BEFORE deciding, so the
   * cap is exceeded at most by the requests already in flight, and no decision that was
   * handed out goes unrecorded.
   */
  enqueue(record: AuditEntry): void {
    this.pending.push(record);
    this.byId.set(record.decisionId, record);
    this.schedule();
  }

  /** Whether `n` more decisions may be made (false: the gate refuses new checks with 503). */
  hasRoom(n: number): boolean {
    return this.pending.length + n <= this.opts.maxPending;
  }

  /** A record still waiting to be written (so GET /decisions/:id finds it at once). */
  getPending(decisionId: string): string | undefined {
    return this.byId.get(decisionId)?.json;
  }

  backlog(): number {
    return this.pending.length;
  }

  /** Flushes what is waiting, retrying until `deadlineMs` (epoch ms by `now`); logs what is left. */
  async stop(deadlineMs: number, now: () => number = Date.now): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // Let an in-flight append finish, but not past the deadline (a hung store must not
    // hold shutdown); if it is still running then, its batch is logged below as well.
    while (this.flushing && now() < deadlineMs) await new Promise((r) => setTimeout(r, 5));
    // Shutdown retries start fast: the deadline, not the backoff, bounds the wait.
    let delay = Math.min(this.opts.baseBackoffMs, 50);
    while (!this.flushing && this.pending.length > 0 && now() < deadlineMs) {
      if (await this.beforeDeadline(this.flushOnce(), deadlineMs - now())) continue;
      if (this.flushing) break; // the append hangs: give up on it (its batch is logged below)
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadlineMs - now()))));
      delay = Math.min(delay * 2, this.opts.maxBackoffMs);
    }
    if (this.pending.length > 0) {
      this.logger.error(
        { auditLost: this.pending.length, records: this.pending.map((r) => r.json) },
        'AUDIT: could not write these decision records before shutdown; they are logged here in full',
      );
      this.pending = [];
      this.byId.clear();
    }
  }

  /** The promise's result, or false once `ms` have passed. */
  private beforeDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    return within(p, ms, false);
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.retryTimer || this.stopped) return;
    this.scheduled = true;
    // Batch everything enqueued in this tick into one append.
    setImmediate(() => {
      this.scheduled = false;
      void this.loop();
    });
  }

  private async loop(): Promise<void> {
    if (this.flushing || this.stopped) return;
    while (this.pending.length > 0 && !this.stopped) {
      if (!(await this.flushOnce())) {
        this.backoffMs = this.backoffMs === 0 ? this.opts.baseBackoffMs : Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
        if (!this.stopped) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.loop();
          }, this.backoffMs);
        }
        return;
      }
    }
  }

  /** Appends one batch; true on success. */
  private async flushOnce(): Promise<boolean> {
    const batch = this.pending.slice(0, this.opts.batchSize);
    if (batch.length === 0) return true;
    this.flushing = true;
    try {
      await this.log.append(batch);
    } catch (err) {
      this.failures += 1;
      const level = this.failures === 1 || this.failures % 10 === 0 ? 'error' : 'warn';
      this.logger[level](
        { err, auditBacklog: this.pending.length, failures: this.failures },
        'audit append failed; records stay buffered and will be retried',
      );
      return false;
    } finally {
      this.flushing = false;
    }
    if (this.failures > 0) {
      this.logger.info({ failures: this.failures, auditBacklog: this.pending.length }, 'audit log writable again');
    }
    this.failures = 0;
    this.backoffMs = 0;
    this.pending.splice(0, batch.length);
    for (const r of batch) this.byId.delete(r.decisionId);
    return true;
  }
}
