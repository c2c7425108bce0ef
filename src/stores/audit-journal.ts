import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEntry } from './audit-log.js';

/**
 * The local audit journal: where decision records go while the audit log (Redis) cannot
 * take them, so that a decision is still answered only once its record is durable.
 *
 * Layout in AUDIT_JOURNAL_DIR (a volume; may be shared by replicas):
 * - `<instance>.current.jsonl`: the open segment, appended by this replica only; every
 *   append is one `write` of whole lines followed by `fdatasync` (a group commit).
 * - `<instance>.<ms>.sealed.jsonl`: segments closed for replay (renamed from `current`).
 * - `<instance>.alive`: touched every few seconds while this replica runs; a replica
 *   whose file is older than the orphan age counts as gone, and any other replica may
 *   claim its segments (rename to `<claimer>.<ms>.sealed.jsonl`, atomic) and replay them.
 *
 * A line is `<decisionId>\t<record JSON>\n` (record JSON never holds a raw newline). A
 * torn last line (a crash mid-write) belonged to a group that was never acknowledged, so
 * it is skipped. Replay is idempotent (the log inserts by decisionId), so a segment
 * replayed twice (a crash between replay and unlink) duplicates nothing.
 */
export interface AuditJournal {
  /**
   * Prepares the directory and seals a current segment a crashed earlier run of this replica
   * left; with `indexTag`, also indexes this replica's segments (done on first use otherwise).
   */
  open(): Promise<void>;
  /** Appends the records and fsyncs them; resolves once they are on disk. */
  append(entries: readonly AuditEntry[]): Promise<void>;
  /** Records appended to the current segment since it was opened. */
  currentCount(): number;
  /** Closes the current segment for replay (nothing when it is empty). */
  seal(): Promise<void>;
  /** This replica's sealed segments, plus the segments of replicas gone for `orphanMs`, claimed. */
  claimReplayable(now: number): Promise<string[]>;
  /** Reads a sealed segment's records (a torn last line skipped). */
  read(path: string): Promise<AuditEntry[]>;
  /** Deletes a replayed segment. */
  remove(path: string): Promise<void>;
  /** A journaled record not yet replayed, by decision id (GET /decisions/:id during an outage). */
  get(decisionId: string): Promise<string | null>;
  /** The `indexTag` of the first journaled record under this id not yet replayed, or null (none, or no `indexTag`). */
  tag(decisionId: string): string | null;
  /** Marks this replica alive (touch). */
  heartbeat(now: number): Promise<void>;
  close(): Promise<void>;
}

export interface AuditJournalOptions {
  dir: string;
  /** This replica's id (file names); letters, digits, '-', '_' and '.' are kept, the rest replaced. */
  instanceId: string;
  /** A replica whose `alive` file is older than this is gone; its segments may be claimed. */
  orphanMs: number;
  /**
   * A short tag kept in memory for each journaled record (the exposure journal: a fill's body
   * hash). With it, the index also covers the segments an earlier run of this replica left
   * and the ones it claims from a replica that is gone, not only what this run appended.
   */
  indexTag?: (json: string) => string | null;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
const SEALED = /^(.+)\.(\d+)\.sealed\.jsonl$/;
const CURRENT = /^(.+)\.current\.jsonl$/;

/** Parses a segment's text: whole lines only (a torn tail is skipped), last record per id wins. */
export function parseJournal(text: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break; // no newline: a torn last line, never acknowledged
    const line = text.slice(start, nl);
    start = nl + 1;
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const json = line.slice(tab + 1);
    try {
      JSON.parse(json);
    } catch {
      continue;
    }
    out.push({ decisionId: line.slice(0, tab), json });
  }
  return out;
}

/** Each whole, valid line of a segment with the byte range of its record (a torn tail is skipped). */
function scanSegment(buf: Buffer): { id: string; json: string; pos: number; len: number }[] {
  const out: { id: string; json: string; pos: number; len: number }[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    const tab = buf.indexOf(0x09, start);
    if (tab > start && tab < nl) {
      const json = buf.toString('utf8', tab + 1, nl);
      try {
        JSON.parse(json);
        out.push({ id: buf.toString('utf8', start, tab), json, pos: tab + 1, len: nl - tab - 1 });
      } catch {
        // not a record: skipped, as parseJournal does
      }
    }
    start = nl + 1;
  }
  return out;
}

/**
 * The journal of this replica. Synchronous to create (it can go into a store factory);
 * the directory is prepared on first use, when a current segment left by a crashed
 * earlier run of this replica is sealed for replay.
 */
export function createAuditJournal(opts: AuditJournalOptions): AuditJournal {
  const me = safeName(opts.instanceId);
  const currentPath = join(opts.dir, `${me}.current.jsonl`);
  const alivePath = join(opts.dir, `${me}.alive`);
  let fh: FileHandle | null = null;
  let count = 0;
  let sealSeq = 0;
  /**
   * Journaled records not yet replayed: id -> segment path, byte range and tag. The first
   * record under an id is kept (the one a replay applies; a later one with the same id is a
   * duplicate or is left out); an entry goes when its segment is removed after the replay.
   */
  const index = new Map<string, { seg: { path: string }; pos: number; len: number; tag: string | null }>();
  const tagOf = (json: string): string | null => {
    if (!opts.indexTag) return null;
    try {
      return opts.indexTag(json);
    } catch {
      return null;
    }
  };
  const note = (id: string, at: { seg: { path: string }; pos: number; len: number; tag: string | null }) => {
    if (!index.has(id)) index.set(id, at);
  };
  /** Indexes a sealed segment found on disk (left by an earlier run, or claimed). */
  const indexSegment = async (path: string): Promise<void> => {
    if (!opts.indexTag) return;
    const seg = { path };
    for (const r of scanSegment(await readFile(path))) note(r.id, { seg, pos: r.pos, len: r.len, tag: tagOf(r.json) });
  };
  let currentSeg = { path: currentPath };
  let currentBytes = 0;

  const sealName = (owner: string): string => {
    sealSeq += 1;
    // Milliseconds plus a sequence: two seals in one millisecond stay distinct.
    return join(opts.dir, `${owner}.${Date.now() * 1_000 + (sealSeq % 1_000)}.sealed.jsonl`);
  };

  const sealCurrentFile = async (): Promise<void> => {
    if (fh) {
      await fh.close();
      fh = null;
    }
    let size = 0;
    try {
      size = (await stat(currentPath)).size;
    } catch {
      return; // no current segment
    }
    if (size === 0) {
      await unlink(currentPath).catch(() => {});
    } else {
      const target = sealName(me);
      await rename(currentPath, target);
      currentSeg.path = target;
    }
    currentSeg = { path: currentPath };
    currentBytes = 0;
    count = 0;
  };

  let ready: Promise<void> | null = null;
  const init = (): Promise<void> =>
    (ready ??= (async () => {
      await mkdir(opts.dir, { recursive: true });
      // A current segment left by an earlier run of this replica (a crash): seal it for replay.
      await sealCurrentFile();
      await writeFile(alivePath, '');
      if (opts.indexTag) {
        for (const n of (await readdir(opts.dir)).sort()) {
          if (SEALED.exec(n)?.[1] === me) await indexSegment(join(opts.dir, n));
        }
      }
    })().catch((err: unknown) => {
      ready = null; // retried on next use
      index.clear();
      throw err;
    }));

  return {
    open: init,
    append: async (entries) => {
      if (entries.length === 0) return;
      await init();
      fh ??= await open(currentPath, 'a');
      // A failed append may have left a torn line: the next record would be glued to it (lost
      // at replay, misread by id). Seal that segment, torn tail last, and start a new one.
      if ((await fh.stat()).size !== currentBytes) {
        await sealCurrentFile();
        fh = await open(currentPath, 'a');
      }
      const parts: string[] = [];
      const spans: [string, number, number, string][] = [];
      let pos = currentBytes;
      for (const e of entries) {
        const prefix = `${e.decisionId}\t`;
        const lenPrefix = Buffer.byteLength(prefix);
        const len = Buffer.byteLength(e.json);
        spans.push([e.decisionId, pos + lenPrefix, len, e.json]);
        pos += lenPrefix + len + 1;
        parts.push(prefix, e.json, '\n');
      }
      const buf = Buffer.from(parts.join(''));
      // Appends may be short only on error; loop to be exact.
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await fh.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
      await fh.datasync();
      currentBytes += buf.length;
      count += entries.length;
      for (const [id, p, len, json] of spans) note(id, { seg: currentSeg, pos: p, len, tag: tagOf(json) });
    },
    currentCount: () => count,
    seal: async () => {
      await init();
      await sealCurrentFile();
    },
    claimReplayable: async (now) => {
      await init();
      const names = await readdir(opts.dir);
      const mine: string[] = [];
      for (const n of names) {
        const m = SEALED.exec(n);
        if (m && m[1] === me) mine.push(join(opts.dir, n));
      }
      // Other replicas gone for orphanMs: claim their segments (rename is atomic, so one
      // claimer wins each file; a loser's rename fails and it moves on).
      const owners = new Set<string>();
      for (const n of names) {
        const owner = SEALED.exec(n)?.[1] ?? CURRENT.exec(n)?.[1];
        if (owner && owner !== me) owners.add(owner);
      }
      for (const owner of owners) {
        let aliveAt = 0;
        try {
          aliveAt = (await stat(join(opts.dir, `${owner}.alive`))).mtimeMs;
        } catch {
          aliveAt = 0;
        }
        if (now - aliveAt < opts.orphanMs) continue;
        for (const n of names) {
          const theirs = SEALED.exec(n)?.[1] === owner || CURRENT.exec(n)?.[1] === owner;
          if (!theirs) continue;
          const target = sealName(me);
          try {
            await rename(join(opts.dir, n), target);
            mine.push(target);
            await indexSegment(target).catch(() => {}); // still replayed; only its ids go unindexed
          } catch {
            // claimed by another replica first
          }
        }
      }
      return mine.sort();
    },
    read: async (path) => parseJournal(await readFile(path, 'utf8')),
    remove: async (path) => {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      for (const [id, at] of index) if (at.seg.path === path) index.delete(id);
    },
    get: async (decisionId) => {
      const at = index.get(decisionId);
      if (!at) return null;
      const h = await open(at.seg.path, 'r');
      try {
        const buf = Buffer.alloc(at.len);
        await h.read(buf, 0, at.len, at.pos);
        return buf.toString('utf8');
      } finally {
        await h.close();
      }
    },
    tag: (decisionId) => index.get(decisionId)?.tag ?? null,
    heartbeat: async (now) => {
      await init();
      const t = new Date(now);
      await utimes(alivePath, t, t).catch(() => writeFile(alivePath, ''));
    },
    close: async () => {
      if (fh) await fh.close();
      fh = null;
    },
  };
}
