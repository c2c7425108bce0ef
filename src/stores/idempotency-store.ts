import type { Clock } from '../domain/clock.js';

/** What is kept per idempotency key: the hash of the canonical request and the answer given. */
export interface IdempotencyEntry<T = unknown> {
  /** SHA-256 of the canonical request body (sorted keys, defaults applied). */
  hash: string;
  response: T;
  /** The trading state the response was given under (absent in records of older versions). */
  stateTag?: string;
}

/**
 * First writer wins, with a TTL. Implemented in memory here and on Redis in
 * `idempotency-store.redis.ts` (one `SET NX PX GET` round trip).
 */
export interface IdempotencyStore {
  /**
   * Stores `entry` under `key` for `ttlMs` unless a live entry is already there.
   * Resolves to the entry already stored, or null when this call stored `entry`.
   */
  putIfAbsent<T>(key: string, entry: IdempotencyEntry<T>, ttlMs: number): Promise<IdempotencyEntry<T> | null>;
}

/** A live record of the process-local store and when it expires (the store clock's ms). */
export interface LocalIdempotencyRecord<T = unknown> {
  entry: IdempotencyEntry<T>;
  expiresAt: number;
}

/**
 * The process-local store, also read synchronously: with Redis it holds only the records
 * made while Redis did not answer, which the gate honours and pushes to Redis once it
 * answers again (see gate.ts), then removes.
 */
export interface LocalIdempotencyStore extends IdempotencyStore {
  /** The live record under `key`, if any (a Map lookup). */
  peek<T>(key: string): LocalIdempotencyRecord<T> | undefined;
  /** Removes `key` if it still holds `entry` (a record stored there since is kept). */
  remove(key: string, entry: IdempotencyEntry<unknown>): void;
  /** The live records; expired ones are dropped on the way. */
  live<T>(): [key: string, record: LocalIdempotencyRecord<T>][];
  /** Records held, including expired ones not swept yet. */
  size(): number;
}

/** Expired entries are swept every this many writes (keeps memory bounded by the TTL). */
const SWEEP_EVERY = 1_024;

/** Process-local idempotency: the memory store, and the fallback when Redis does not answer. */
export function createMemoryIdempotencyStore(clock: Clock): LocalIdempotencyStore {
  const entries = new Map<string, LocalIdempotencyRecord>();
  let writes = 0;
  const sweep = (now: number): void => {
    for (const [k, v] of entries) if (v.expiresAt <= now) entries.delete(k);
  };
  return {
    putIfAbsent: async <T>(key: string, entry: IdempotencyEntry<T>, ttlMs: number) => {
      const now = clock();
      const found = entries.get(key);
      if (found && found.expiresAt > now) return found.entry as IdempotencyEntry<T>;
      entries.set(key, { entry, expiresAt: now + ttlMs });
      writes += 1;
      if (writes % SWEEP_EVERY === 0) sweep(now);
      return null;
    },
    peek: <T>(key: string) => {
      const found = entries.get(key);
      return found && found.expiresAt > clock() ? (found as LocalIdempotencyRecord<T>) : undefined;
    },
    remove: (key, entry) => {
      if (entries.get(key)?.entry === entry) entries.delete(key);
    },
    live: <T>() => {
      sweep(clock());
      return [...entries] as [string, LocalIdempotencyRecord<T>][];
    },
    size: () => entries.size,
  };
}
