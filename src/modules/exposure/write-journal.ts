import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ExposureFill } from '../../domain/exposure/types.js';
import type { Fill } from '../../domain/posttrade/types.js';
import type { PosttradeStore, StoredFill } from '../../stores/posttrade-store.js';
import { createAuditJournal } from '../../stores/audit-journal.js';
import type { AuditEntry, AuditLog } from '../../stores/audit-log.js';
import type { ExposureStore } from '../../stores/exposure-store.js';
import { AuditWriter } from '../pretrade/audit-writer.js';

/** A write the service answered that Redis did not take at once, kept until it does. */
export type JournaledWrite =
  /** POST /fills: the post-trade record and the move of the account's positions. */
  | { kind: 'fill'; stored: StoredFill; now: number }
  /** POST /decisions/:id/release. */
  | { kind: 'release'; accountId: string; decisionId: string };

/**
 * Fills and releases that must not be lost while Redis is down (or, with
 * AUDIT_DURABILITY=replica, while no replica acknowledges). The same mechanism as the
 * audit: AuditWriter's group commit over a journal in `AUDIT_JOURNAL_DIR/exposure/`
 * (its own directory, so the audit replay never takes these for decision records), fsynced
 * before the reply, replayed into Redis when it answers again, at start after a crash, and
 * by another replica when this one is gone for AUDIT_JOURNAL_ORPHAN_MS.
 *
 * Replaying applies each write through the stores, which are idempotent: a fill by
 * fillId (post-trade record and positions), a release by decisionId. A write applied
 * directly and also journaled, or replayed twice after a crash, counts once.
 *
 * A fill resent with another body under a fillId this replica's journal holds is refused
 * at intake (409) through `journaledFill`: the journal keeps each journaled fill's body hash
 * in memory (rebuilt from its segments at start, and from the segments it claims), and
 * drops it once its segment is replayed, when Redis answers the conflict itself. What the
 * intake cannot see, a fill recorded in Redis before the outage, or journaled by another
 * replica, still conflicts only at replay: it is logged and left out.
 */
export interface ExposureWriteJournal {
  /** Whether writes go to the journal now (Redis failed and the journal is not replayed yet): later writes must follow, in order. */
  journaling(): boolean;
  /** Makes the write durable: applied in Redis or fsynced to the journal. Rejects when neither. */
  record(write: JournaledWrite): Promise<void>;
  /** Resolves once the journal's index holds the segments on disk (rebuilt at start); rejects when they cannot be read. */
  ready(): Promise<void>;
  /**
   * The body hash of the fill this replica's journal holds under `fillId` (durable: fsynced,
   * not yet replayed), or of one waiting for its group commit (not durable yet); null when
   * neither. Synchronous, so a caller that records right after checking cannot be overtaken.
   */
  journaledFill(fillId: string): { hash: string; durable: boolean } | null;
  /** Writes waiting for their group commit (for /health/status). */
  backlog(): number;
  start(): void;
  stop(deadlineMs: number): Promise<void>;
}

/** The exposure side of a fill the post-trade store records (POST /fills and its replay). */
export function exposureFillOf(fill: Fill): ExposureFill {
  return { fillId: fill.fillId, decisionId: fill.decisionId ?? undefined, symbol: fill.symbol, side: fill.side, quantity: fill.quantity, price: fill.price, executedAt: fill.ts, fee: fill.fee ?? undefined };
}

const fillKey = (fillId: string): string => `fill:${fillId}`;
const idOf = (w: JournaledWrite): string => (w.kind === 'fill' ? fillKey(w.stored.fill.fillId) : `release:${w.accountId}:${w.decisionId}`);
/** What the journal keeps in memory per record: a fill's body hash. */
const fillHashOf = (json: string): string | null => {
  const w = JSON.parse(json) as JournaledWrite;
  return w.kind === 'fill' ? w.stored.hash : null;
};

/** Applies journaled writes to the stores, in order; a store failure rejects (the group stays in the journal). */
function applier(posttrade: PosttradeStore, exposure: ExposureStore, logger: Logger): AuditLog {
  const apply = async (w: JournaledWrite): Promise<void> => {
    if (w.kind === 'release') {
      await exposure.release(w.accountId, w.decisionId);
      return;
    }
    const { fill } = w.stored;
    const prior = await posttrade.addFill(w.stored);
    if (prior && prior.hash !== w.stored.hash) {
      logger.error({ fillId: fill.fillId }, 'journaled fill conflicts with the fill already recorded under its id: left out');
      return;
    }
    const r = await exposure.applyFill(fill.accountId, exposureFillOf(fill), w.now);
    if (r.status === 'conflict') logger.error({ fillId: fill.fillId }, 'journaled fill conflicts with the fill already applied to positions under its id: left out');
  };
  return {
    append: async (entries: readonly AuditEntry[]) => {
      for (const e of entries) await apply(JSON.parse(e.json) as JournaledWrite);
    },
    get: async () => null,
  };
}

export function createExposureWriteJournal(opts: {
  dir: string;
  instanceId: string;
  orphanMs: number;
  commitTimeoutMs: number;
  posttrade: PosttradeStore;
  exposure: ExposureStore;
  logger: Logger;
}): ExposureWriteJournal {
  const logger = opts.logger.child({ component: 'exposure-journal' });
  const journal = createAuditJournal({ dir: join(opts.dir, 'exposure'), instanceId: opts.instanceId, orphanMs: opts.orphanMs, indexTag: fillHashOf });
  const writer = new AuditWriter(
    applier(opts.posttrade, opts.exposure, logger),
    logger,
    // One write applies in a few round trips: smaller groups than the audit's.
    { batchSize: 50, baseBackoffMs: 50, maxBackoffMs: 5_000, maxPending: 10_000, commitTimeoutMs: opts.commitTimeoutMs },
    journal,
    { heartbeatMs: Math.max(250, Math.floor(opts.orphanMs / 6)), orphanScanMs: Math.max(500, Math.floor(opts.orphanMs / 2)), name: 'exposure' },
  );
  return {
    journaling: () => writer.journaling(),
    record: (w) => writer.enqueue({ decisionId: idOf(w), json: JSON.stringify(w) }),
    ready: () => journal.open(),
    journaledFill: (fillId) => {
      const hash = journal.tag(fillKey(fillId));
      if (hash !== null) return { hash, durable: true };
      const waiting = writer.getPending(fillKey(fillId));
      const pending = waiting === undefined ? null : fillHashOf(waiting);
      return pending === null ? null : { hash: pending, durable: false };
    },
    backlog: () => writer.backlog(),
    start: () => writer.start(),
    stop: (deadlineMs) => writer.stop(deadlineMs),
  };
}
