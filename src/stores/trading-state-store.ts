import { z } from 'zod';
import type { TradingState } from '../domain/pretrade/types.js';

/** One trading-state setting, with who set it and when (the admin's key id, never the key). */
export interface TradingStateEntry {
  state: TradingState;
  reason: string;
  /** Null only for a stored entry that was invalid (read as HALTED) and named no author. */
  updatedBy: string | null;
  /** ISO 8601; null only for an invalid stored entry that carried none. */
  updatedAt: string | null;
}

/** What a stored setting must look like (what PUT /admin/trading-state writes). */
export const StoredTradingStateEntrySchema = z.object({
  state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']),
  reason: z.string(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});

/**
 * Reads one stored setting. Anything that is not valid JSON of the stored shape (a
 * hand-written `"halted"`, a truncated value) becomes HALTED for its scope, with a reason
 * saying so (fail closed: the store says something about this scope and we cannot tell
 * what, so only reduce-only passes until an admin sets it again). `problem` is null when
 * the entry was valid.
 */
export function parseStoredTradingState(json: string): { entry: TradingStateEntry; problem: string | null } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { entry: invalidEntry(null, 'not JSON'), problem: 'not JSON' };
  }
  const parsed = StoredTradingStateEntrySchema.safeParse(raw);
  if (parsed.success) return { entry: parsed.data, problem: null };
  const problem = parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`).join('; ');
  return { entry: invalidEntry(raw, problem), problem };
}

function invalidEntry(raw: unknown, problem: string): TradingStateEntry {
  const field = (k: string): string | null => {
    const v = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[k] : undefined;
    return typeof v === 'string' ? v.slice(0, 200) : null;
  };
  return {
    state: 'HALTED',
    reason: `INVALID stored trading-state entry (${problem.slice(0, 300)}): treated as HALTED until an admin sets this scope again`,
    updatedBy: field('updatedBy'),
    updatedAt: field('updatedAt'),
  };
}

/**
 * Every setting ever made that is still in force. A scope with no entry is ACTIVE, but
 * only in an initialised store: `initialised` is false when the store lacks the marker a
 * global PUT writes (a Redis that lost its keys, or a new one), and then every scope is
 * read as HALTED, never silently ACTIVE.
 */
export interface TradingStateSnapshot {
  initialised: boolean;
  /** Bumped by every `set`; 0 while nothing was ever set. Replicas acknowledge the version they apply. */
  version: number;
  global: TradingStateEntry | null;
  symbols: Record<string, TradingStateEntry>;
}

/**
 * Where the kill switch lives. The gate never reads it on the hot path: it keeps a copy
 * in memory, refreshed on change announcements and periodically.
 * Memory here; Redis (hash + pub/sub) in `trading-state-store.redis.ts`.
 */
export interface TradingStateStore {
  /**
   * Whether other processes write it. A shared store is subscribed to and reloaded
   * periodically, and a copy of it that could not be reloaded for a while is not
   * trusted; an unshared one (memory) has this process as its only writer.
   */
  readonly shared: boolean;
  load(): Promise<TradingStateSnapshot>;
  /**
   * Writes one setting (symbol null = global) and announces the change; rejects if not
   * stored. A global setting also writes the initialisation marker (kept if present).
   * Resolves to the store's version after this write.
   */
  set(symbol: string | null, entry: TradingStateEntry): Promise<number>;
  /**
   * Calls `listener` after any replica's `set`, and again whenever the announcement channel
   * was re-established after a loss (announcements in between are lost). Returns an unsubscribe.
   */
  subscribe(listener: () => void): Promise<() => Promise<void>>;
  /** Records that `replica` applies `version` now (also its heartbeat: see `acknowledgements`). */
  acknowledge(replica: string, version: number): Promise<void>;
  /**
   * The live replicas and the version each applies: those that acknowledged within the
   * last `liveMs` (the store's clock). Older acknowledgements are dropped (a replica gone).
   */
  acknowledgements(liveMs: number): Promise<ReplicaAck[]>;
}

export interface ReplicaAck {
  replica: string;
  version: number;
}

/**
 * The memory store starts initialised (the demo runs ACTIVE at once): it lives and dies
 * with this process, so there are no keys that could vanish under it.
 */
export function createMemoryTradingStateStore(opts: { initialised?: boolean; clock?: () => number } = {}): TradingStateStore {
  const clock = opts.clock ?? Date.now;
  let initialised = opts.initialised ?? true;
  let version = 0;
  const acks = new Map<string, { version: number; at: number }>();
  let global: TradingStateEntry | null = null;
  const symbols = new Map<string, TradingStateEntry>();
  const listeners = new Set<() => void>();
  return {
    shared: false,
    load: async () => ({ initialised, version, global, symbols: Object.fromEntries(symbols) }),
    set: async (symbol, entry) => {
      if (symbol === null) {
        global = entry;
        initialised = true;
      } else symbols.set(symbol, entry);
      version += 1;
      for (const l of listeners) l();
      return version;
    },
    acknowledge: async (replica, v) => {
      acks.set(replica, { version: v, at: clock() });
    },
    acknowledgements: async (liveMs) => {
      const since = clock() - liveMs;
      for (const [replica, a] of acks) if (a.at < since) acks.delete(replica);
      return [...acks].map(([replica, a]) => ({ replica, version: a.version }));
    },
    subscribe: async (listener) => {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
  };
}
