import type { Logger } from 'pino';
import type { AuditJournal } from '../../stores/audit-journal.js';
import type { AuditEntry, AuditLog } from '../../stores/audit-log.js';

export interface AuditWriterOptions {
  /** Cap on records waiting for their group commit; past it the gate refuses new checks (503). */
  maxPending: number;
  /** Records per group (one append, one round trip). */
  batchSize: number;
  /** First retry delay of the journal replay; doubles up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How long one group may take in the log before it goes to the journal (or, without one, fails). */
  commitTimeoutMs: number;
}

/** A record's group commit failed in the log and in the journal: its decision must not be answered. */
export class AuditNotDurableError extends Error {
  constructor(cause: unknown) {
    super(`the audit record could not be made durable: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'AuditNotDurableError';
  }
}

interface Waiting {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: Error) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A wait that does not hold the process open (the replay's backoff). */
const idle = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function timed<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The journal's upkeep (heartbeat, orphan scans) and the name log lines give the writer. */
export interface JournalUpkeep {
  heartbeatMs: number;
  orphanScanMs: number;
  name?: string;
}

/**
 * Group commit of audit records: a decision is answered only once its record is durable.
 * `enqueue` returns a promise that resolves when the record's group is written: to the
 * log (Redis, with the durability its mode gives: `appendfsync always`, or WAIT for a
 * replica), or, when the log fails or does not answer within `commitTimeoutMs`, to the
 * local journal (write + fdatasync). It rejects (AuditNotDurableError) when neither took
 * it; the gate then answers 503 with no decision.
 *
 * One group is in flight at a time; records enqueued meanwhile form the next group, so
 * concurrent requests share one round trip (or one fsync) and throughput holds.
 *
 * After a log failure every group goes to the journal until the journal has been
 * replayed into the log (a background loop with backoff): order within the journal is
 * kept, and the switch back happens only when no record is left behind in it. Replay is
 * idempotent (the log inserts by decisionId), so a group that reached Redis late after a
 * timeout and was also journaled is stored once. The loop also replays, at start, what a
 * crashed earlier run of this replica left, and the segments of replicas gone for the
 * journal's orphan age.
 */
export class AuditWriter {
  private pending: Waiting[] = [];
  /** The same waiting records by decision id. */
  private readonly byId = new Map<string, AuditEntry>();
  private flushing = false;
  /** The group being committed now. */
  private current: Waiting[] = [];
  private scheduled = false;
  private failures = 0;
  private stopped = false;
  private drainWaiters: (() => void)[] = [];
  private mode: 'log' | 'journal' = 'log';
  private replaying: Promise<void> | null = null;
  /** Serializes journal appends with sealing and the switch back to the log. */
  private journalLock: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly log: AuditLog,
    private readonly logger: Logger,
    private readonly opts: AuditWriterOptions,
    private readonly journal: AuditJournal | null = null,
    private readonly journalOpts: JournalUpkeep = { heartbeatMs: 5_000, orphanScanMs: 15_000 },
  ) {
    this.name = journalOpts.name ?? 'audit';
  }

  /** What the log lines call this writer's log and journal ('audit', or 'exposure' for fills and releases). */
  private readonly name: string;

  /**
   * Queues a record for the next group commit; resolves once it is durable, rejects with
   * AuditNotDurableError when it could not be. The caller checks `hasRoom` BEFORE
   * deciding, so the cap is exceeded at most by the requests already in flight.
   */
  enqueue(record: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry: record, resolve, reject });
      this.byId.set(record.decisionId, record);
      this.schedule();
    });
  }

  /** Whether `n` more decisions may be made (false: the gate refuses new checks with 503). */
  hasRoom(n: number): boolean {
    return this.backlog() + n <= this.opts.maxPending;
  }

  /** A record still waiting for its group commit (so GET /decisions/:id finds it at once). */
  getPending(decisionId: string): string | undefined {
    return this.byId.get(decisionId)?.json;
  }

  /** Records waiting for their commit, the group in flight included. */
  backlog(): number {
    return this.pending.length + this.current.length;
  }

  /** Whether groups go to the journal now (the log failed and the journal is not yet replayed). */
  journaling(): boolean {
    return this.mode === 'journal';
  }

  /** Resolves once nothing is waiting for a commit (for tests and shutdown). */
  whenDrained(): Promise<void> {
    if (this.pending.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Starts the journal's upkeep: replays what an earlier run (or a replica gone for good)
   * left, touches this replica's heartbeat, and looks for orphaned segments now and then.
   */
  start(): void {
    if (!this.journal || this.stopped) return;
    const journal = this.journal;
    this.startReplay();
    const beat = setInterval(() => void journal.heartbeat(Date.now()).catch(() => {}), this.journalOpts.heartbeatMs);
    const scan = setInterval(() => this.startReplay(), this.journalOpts.orphanScanMs);
    beat.unref();
    scan.unref();
    this.timers.push(beat, scan);
  }

  /** Replays the journal into the log now (one round, with retries until it succeeds or stop). */
  replayNow(): Promise<void> {
    this.startReplay();
    return this.replaying ?? Promise.resolve();
  }

  /**
   * Commits what is waiting, until `deadlineMs` (epoch ms by `now`); records still waiting
   * then are refused (their requests get 503: no decision was answered without a record).
   */
  async stop(deadlineMs: number, now: () => number = Date.now): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    while ((this.flushing || this.pending.length > 0) && now() < deadlineMs) {
      if (!this.flushing) void this.loop();
      await sleep(5);
    }
    if (this.pending.length > 0 || this.current.length > 0) {
      // A promise settles once: a hung group that completes later changes nothing for these.
      const left = [...this.current, ...this.pending];
      this.pending = [];
      this.byId.clear();
      const err = new AuditNotDurableError(new Error('shutting down'));
      for (const w of left) w.reject(err);
      this.logger.error({ notAnswered: left.length }, `${this.name.toUpperCase()}: records still waiting at shutdown; they were not answered`);
      this.resolveDrained();
    }
    await this.journal?.close().catch(() => {});
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    // Everything enqueued in this tick joins one group.
    setImmediate(() => {
      this.scheduled = false;
      void this.loop();
    });
  }

  private async loop(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, this.opts.batchSize);
        this.current = group;
        const err = await this.commitGroup(group.map((w) => w.entry));
        this.current = [];
        for (const w of group) {
          this.byId.delete(w.entry.decisionId);
          if (err) w.reject(err);
          else w.resolve();
        }
      }
    } finally {
      this.flushing = false;
      this.current = [];
      this.resolveDrained();
    }
  }

  /** Writes one group to the log, else the journal; the error when neither took it. */
  private async commitGroup(entries: AuditEntry[]): Promise<AuditNotDurableError | undefined> {
    let lastErr: unknown;
    for (;;) {
      if (this.mode === 'log') {
        try {
          await timed(this.log.append(entries), this.opts.commitTimeoutMs);
          this.noteLogOk();
          return undefined;
        } catch (err) {
          lastErr = err;
          this.noteLogFailure(err);
          if (!this.journal) return new AuditNotDurableError(err);
          if (this.mode === 'log') {
            this.mode = 'journal';
            this.logger.warn(`${this.name} log unavailable: records go to the local journal until it is replayed`);
          }
          this.startReplay();
        }
      }
      const journal = this.journal;
      if (!journal) return new AuditNotDurableError(lastErr);
      const outcome = await this.exclusive(async () => {
        // The replay may have switched back to the log while this group waited for the lock.
        if (this.mode !== 'journal') return 'log' as const;
        await journal.append(entries);
        return 'journaled' as const;
      }).catch((err: unknown) => err);
      if (outcome === 'journaled') return undefined;
      if (outcome === 'log') continue;
      this.logger.error({ err: outcome, records: entries.length }, `${this.name.toUpperCase()}: the journal failed as well; these records are refused (503)`);
      return new AuditNotDurableError(outcome);
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.journalLock.then(fn, fn);
    this.journalLock = run.catch(() => {});
    return run;
  }

  private noteLogOk(): void {
    if (this.failures > 0) this.logger.info({ failures: this.failures }, `${this.name} log writable again`);
    this.failures = 0;
  }

  private noteLogFailure(err: unknown): void {
    this.failures += 1;
    const level = this.failures === 1 || this.failures % 10 === 0 ? 'error' : 'warn';
    this.logger[level]({ err, failures: this.failures, mode: this.mode }, `${this.name} append failed`);
  }

  private startReplay(): void {
    if (!this.journal || this.replaying || this.stopped) return;
    this.replaying = this.replayUntilDone(this.journal).finally(() => {
      this.replaying = null;
    });
  }

  /** Seals and replays until the journal is empty and groups go to the log again. */
  private async replayUntilDone(journal: AuditJournal): Promise<void> {
    let delay = this.opts.baseBackoffMs;
    while (!this.stopped) {
      try {
        await this.exclusive(() => journal.seal());
        const segments = await journal.claimReplayable(Date.now());
        let replayed = 0;
        for (const path of segments) {
          const entries = await journal.read(path);
          for (let i = 0; i < entries.length; i += this.opts.batchSize) {
            await timed(this.log.append(entries.slice(i, i + this.opts.batchSize)), this.opts.commitTimeoutMs * 5);
          }
          await journal.remove(path);
          replayed += entries.length;
        }
        if (replayed > 0) this.logger.info({ replayed, segments: segments.length }, `${this.name} journal replayed into the log`);
        const done = await this.exclusive(async () => {
          if (journal.currentCount() > 0) return false; // journaled meanwhile: seal and replay again
          if (this.mode === 'journal') {
            this.mode = 'log';
            this.noteLogOk();
            this.logger.info(`${this.name} journal empty: records go to the log again`);
          }
          return true;
        });
        if (done) return;
        delay = this.opts.baseBackoffMs;
        continue;
      } catch (err) {
        this.logger.warn({ err }, `${this.name} journal replay failed; retrying`);
      }
      await idle(delay);
      delay = Math.min(delay * 2, this.opts.maxBackoffMs);
    }
  }

  private resolveDrained(): void {
    if (this.pending.length > 0 || this.flushing) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
