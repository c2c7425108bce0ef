import type { TradingState } from '../domain/pretrade/types.js';

/** One trading-state setting, with who set it and when (the admin's key id, never the key). */
export interface TradingStateEntry {
  state: TradingState;
  reason: string;
  updatedBy: string;
  /** ISO 8601. */
  updatedAt: string;
}

/** Every setting ever made that is still in force. A scope with no entry is ACTIVE. */
export interface TradingStateSnapshot {
  global: TradingStateEntry | null;
  symbols: Record<string, TradingStateEntry>;
}

/**
 * Where the kill switch lives. The gate never reads it on the hot path: it keeps a copy
 * in memory, refreshed on change announcements and periodically.
 * Memory here; Redis (hash + pub/sub) in `trading-state-store.redis.ts`.
 */
export interface TradingStateStore {
  load(): Promise<TradingStateSnapshot>;
  /** Writes one setting (symbol null = global) and announces the change; rejects if not stored. */
  set(symbol: string | null, entry: TradingStateEntry): Promise<void>;
  /** Calls `listener` after any replica's `set`. Returns an unsubscribe. */
  subscribe(listener: () => void): Promise<() => Promise<void>>;
}

export function createMemoryTradingStateStore(): TradingStateStore {
  let global: TradingStateEntry | null = null;
  const symbols = new Map<string, TradingStateEntry>();
  const listeners = new Set<() => void>();
  return {
    load: async () => ({ global, symbols: Object.fromEntries(symbols) }),
    set: async (symbol, entry) => {
      if (symbol === null) global = entry;
      else symbols.set(symbol, entry);
      for (const l of listeners) l();
    },
    subscribe: async (listener) => {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
  };
}
