import type { ReserveContext, ReserveOrder, ReserveOutcome } from '../domain/exposure/limits.js';
import type { AccountState, ExposureFill, SnapshotPosition } from '../domain/exposure/types.js';

export type FillResult =
  /** Applied now; `reservationFound` false when it named no open reservation (flagged, still applied). */
  | { status: 'applied'; reservationFound: boolean }
  /** Already applied with the same body: nothing changed. */
  | { status: 'duplicate' }
  /** Already applied with a different body: refused (409). */
  | { status: 'conflict' };

export type ReconcileResult =
  | { status: 'applied'; replayedFills: number }
  /** A snapshot older than the one in force is refused. */
  | { status: 'stale'; reconciledAt: number };

/**
 * Positions, fills and reservations per account, shared by every replica. Each operation
 * on one account is atomic; `reserve` is check-and-reserve in one step (the Redis store:
 * one script, one round trip, however many orders). Implemented in memory
 * (`exposure-store.memory.ts`) and on Redis (`exposure-store.redis.ts`); both pass
 * test/stores/exposure-store.contract.ts.
 */
export interface ExposureStore {
  /** The account as stored (expired reservations may still be there: purge with the clock), or null when unknown. */
  get(accountId: string): Promise<AccountState | null>;
  /** Decides and reserves each order in turn (see `reserve` in the domain), atomically for the account. */
  reserve(accountId: string, orders: readonly ReserveOrder[], ctx: ReserveContext): Promise<ReserveOutcome[]>;
  /** Applies a fill once per `fillId` (same body again: duplicate; another body: conflict). */
  applyFill(accountId: string, fill: ExposureFill, now: number): Promise<FillResult>;
  /** Replaces the positions with a snapshot at `asOf`; fills executed after it are applied on top. */
  reconcile(accountId: string, asOf: number, positions: readonly SnapshotPosition[], now: number): Promise<ReconcileResult>;
  /** Removes a decision's reservation; false when there was none (already released, consumed or expired). */
  release(accountId: string, decisionId: string): Promise<boolean>;
  /** Ends REDUCING after a max-loss breach; false when the account was not REDUCING. */
  resetReducing(accountId: string): Promise<boolean>;
  /**
   * Accounts with a fill, a reconciliation or a check-and-reserve (the gate's orders). The
   * Redis store adds an account reserved for the first time in the background (the set is
   * outside the account's hash slot, and the hot path keeps its one round trip).
   */
  knownAccounts(): Promise<string[]>;
}

/** What a fill is compared on for idempotency (fixed key order). */
export function canonicalFill(f: ExposureFill): string {
  return JSON.stringify([f.fillId, f.decisionId ?? null, f.symbol, f.side, f.quantity, f.price, f.executedAt, f.fee ?? null]);
}

export function fillFromCanonical(s: string): ExposureFill {
  const [fillId, decisionId, symbol, side, quantity, price, executedAt, fee] = JSON.parse(s) as [string, string | null, string, 'buy' | 'sell', number, number, number, number | null];
  return { fillId, decisionId: decisionId ?? undefined, symbol, side, quantity, price, executedAt, fee: fee ?? undefined };
}
