import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RedisClient } from './redis-client.js';
import type { Logger } from 'pino';
import { recordFromFields } from './audit-log.redis.js';

export interface AuditArchiverOptions {
  streamKey: string;
  /** Consumer group name (one for all replicas: each entry goes to one of them). */
  group: string;
  /** This replica's consumer name (INSTANCE_ID); also in its file names. */
  consumer: string;
  dir: string;
  /** Entries younger than this stay in the stream (GET /decisions/:id reads them there). */
  lookupWindowMs: number;
  batch: number;
  intervalMs: number;
  /** Entries delivered to a consumer that has not acknowledged them for this long are taken over. */
  claimIdleMs: number;
}

type Entry = [Buffer, Buffer[] | null];

const idMs = (id: string): number => Number(id.split('-')[0]);
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am === bm ? (as ?? 0) - (bs ?? 0) : am - bm;
}
const DAY_RE = /"evaluatedAt":"(\d{4}-\d{2}-\d{2})T/;

/**
 * Archives the audit stream to append-only daily files and trims the stream behind it.
 *
 * Every replica with AUDIT_ARCHIVE_DIR is a consumer in one Redis consumer group on the
 * audit stream. A round reads up to `batch` new entries (and takes over entries another
 * consumer left unacknowledged for `claimIdleMs`: a replica that died mid-round), appends
 * them as JSON lines, one gzip member per round, to
 * `<dir>/audit-<YYYY-MM-DD>.<consumer>.jsonl.gz` (the day the decision was made, UTC;
 * concatenated gzip members are one valid gzip file, `zcat` reads it), fsyncs, and only
 * then acknowledges them (XACK). Delivery is at least once: a crash between fsync and
 * XACK writes those lines again on redelivery, so readers dedupe on decisionId.
 *
 * Trimming (XTRIM MINID, exact) removes only entries that are both archived (older than
 * the group's oldest unacknowledged entry, or, with none, up to its last delivered one)
 * and older than the lookup window. Nothing that is not archived is trimmed; if the archiver stops,
 * the stream grows (alert on Redis memory) rather than lose records.
 */
export class AuditArchiver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private stopped = false;
  private groupReady = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    private readonly opts: AuditArchiverOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    if (this.stopped || this.timer) return;
    const tick = () => {
      this.timer = undefined;
      if (this.stopped) return;
      this.running = this.round()
        .then((n) => {
          if (!this.stopped) this.timer = setTimeout(tick, n >= this.opts.batch ? 0 : this.opts.intervalMs);
        })
        .catch((err: unknown) => {
          this.logger.warn({ err }, 'audit archive round failed; retrying');
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        })
        .finally(() => {
          this.running = null;
        });
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  /** One round: archive what is new (or abandoned), then trim. Returns the entries archived. */
  async round(): Promise<number> {
    await this.ensureGroup();
    const { streamKey, group, consumer, batch, claimIdleMs } = this.opts;
    const claimed = (await this.redis.callBuffer('XAUTOCLAIM', streamKey, group, consumer, claimIdleMs, '0-0', 'COUNT', batch)) as [
      Buffer,
      Entry[],
    ];
    const fresh = (await this.redis.callBuffer('XREADGROUP', 'GROUP', group, consumer, 'COUNT', batch, 'STREAMS', streamKey, '>')) as
      | [Buffer, Entry[]][]
      | null;
    const entries = [...(claimed?.[1] ?? []), ...(fresh?.[0]?.[1] ?? [])];
    if (entries.length > 0) await this.archive(entries);
    await this.trim();
    return entries.length;
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      // From the start of the stream: what was written before the first archiver is archived too.
      await this.redis.xgroup('CREATE', this.opts.streamKey, this.opts.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    this.groupReady = true;
  }

  private async archive(entries: Entry[]): Promise<void> {
    const byDay = new Map<string, string[]>();
    const ids: string[] = [];
    for (const [rawId, fields] of entries) {
      const id = rawId.toString();
      ids.push(id);
      const rec = fields ? recordFromFields(fields) : null; // null: deleted from the stream meanwhile
      if (!rec) continue;
      const day = DAY_RE.exec(rec.json)?.[1] ?? new Date(idMs(id)).toISOString().slice(0, 10);
      const lines = byDay.get(day) ?? [];
      lines.push(rec.json);
      byDay.set(day, lines);
    }
    await mkdir(this.opts.dir, { recursive: true });
    for (const [day, lines] of byDay) {
      const path = join(this.opts.dir, `audit-${day}.${this.opts.consumer.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl.gz`);
      const fh = await open(path, 'a');
      try {
        await fh.write(gzipSync(`${lines.join('\n')}\n`));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    await this.redis.xack(this.opts.streamKey, this.opts.group, ...ids);
  }

  /** Trims what is archived and past the lookup window (never anything unarchived). */
  async trim(): Promise<void> {
    const { streamKey, group } = this.opts;
    const pending = (await this.redis.xpending(streamKey, group)) as [number, string | null, string | null, unknown];
    let archivedBelow: string | null;
    if (Number(pending[0]) > 0 && pending[1]) {
      archivedBelow = pending[1];
    } else {
      const groups = (await this.redis.xinfo('GROUPS', streamKey)) as unknown[][];
      const ours = groups.map((g) => toObject(g)).find((g) => g.name === group);
      const last = typeof ours?.['last-delivered-id'] === 'string' ? ours['last-delivered-id'] : null;
      // Everything up to the last delivered entry is acknowledged, so archived: MINID just past it.
      archivedBelow = last && last !== '0-0' ? nextId(last) : null;
    }
    if (!archivedBelow) return;
    const windowStart = `${Math.max(0, this.clock() - this.opts.lookupWindowMs)}-0`;
    const minId = compareIds(archivedBelow, windowStart) < 0 ? archivedBelow : windowStart;
    await this.redis.xtrim(streamKey, 'MINID', minId);
  }
}

/** The smallest stream id after `id`. */
function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${Number(seq ?? 0) + 1}`;
}

function toObject(flat: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[String(flat[i])] = flat[i + 1];
  return o;
}
