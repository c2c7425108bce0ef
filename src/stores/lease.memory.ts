import type { PollLeases } from './lease.js';

/** One process, one store: this process always holds every lease. Tokens still grow per acquisition. */
export function createMemoryLeases(opts: { instanceId: string; ttlMs: number }): PollLeases {
  const tokens = new Map<string, number>();
  const held = new Set<string>();
  return {
    instanceId: opts.instanceId,
    ttlMs: opts.ttlMs,
    acquire: async (symbol) => {
      const t = (tokens.get(symbol) ?? 0) + 1;
      tokens.set(symbol, t);
      held.add(symbol);
      return t;
    },
    renew: async (symbol) => held.has(symbol),
    release: async (symbol) => {
      held.delete(symbol);
    },
    holder: async (symbol) => (held.has(symbol) ? opts.instanceId : null),
  };
}
