/**
 * Per-symbol poll leases: at most one replica polls a symbol at a time. Each acquisition
 * takes a fencing token that only grows, and the poller passes it to `HeatmapStore.put`
 * so a slow former leader's late write is refused.
 * Implemented by `lease.redis.ts` (shared) and `lease.memory.ts` (single process).
 */
export interface PollLeases {
  /** This process's identity as a holder (instance id). */
  readonly instanceId: string;
  readonly ttlMs: number;
  /** Takes the lease when free; returns the new fencing token, or null when another holder has it. */
  acquire(symbol: string): Promise<number | null>;
  /** Extends a lease we hold; false when it has expired or been taken (stop polling then). */
  renew(symbol: string): Promise<boolean>;
  /** Gives the lease up if we still hold it, so another replica can take over at once. */
  release(symbol: string): Promise<void>;
  /** Instance id of the current holder, or null when nobody holds the lease. */
  holder(symbol: string): Promise<string | null>;
}

/** Holder values are `<instanceId>#<nonce>|<token>`; the nonce tells apart two processes with one id. */
export function parseHolder(value: string | null): { owner: string; instanceId: string; token: number } | null {
  if (value === null) return null;
  const bar = value.lastIndexOf('|');
  if (bar < 0) return null;
  const owner = value.slice(0, bar);
  const hash = owner.lastIndexOf('#');
  return { owner, instanceId: hash < 0 ? owner : owner.slice(0, hash), token: Number(value.slice(bar + 1)) };
}
