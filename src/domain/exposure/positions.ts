import type { AccountState, ExposureFill, Position, Reservation } from './types.js';
import { QTY_EPSILON, REALIZED_BUCKET_MS, type SnapshotPosition } from './types.js';

/**
 * Applies one fill to a position at average cost: adding moves the entry to the weighted
 * mean; reducing realizes (exit - entry) x closed quantity (less the fee); crossing zero
 * opens the remainder at the fill price.
 */
export function applyFillToPosition(pos: Position | undefined, fill: ExposureFill): { position: Position; realizedUsd: number } {
  const q = pos?.quantity ?? 0;
  const entry = pos?.entryPrice ?? 0;
  const delta = fill.side === 'buy' ? fill.quantity : -fill.quantity;
  const next = q + delta;
  const fee = fill.fee ?? 0;
  if (Math.abs(q) <= QTY_EPSILON || Math.sign(q) === Math.sign(delta)) {
    const size = Math.abs(next);
    const entryPrice = size <= QTY_EPSILON ? 0 : (Math.abs(q) * entry + fill.quantity * fill.price) / size;
    return { position: { quantity: next, entryPrice }, realizedUsd: -fee };
  }
  const closed = Math.min(Math.abs(q), fill.quantity);
  const realizedUsd = closed * (fill.price - entry) * Math.sign(q) - fee;
  if (Math.abs(next) <= QTY_EPSILON) return { position: { quantity: 0, entryPrice: 0 }, realizedUsd };
  const flipped = Math.sign(next) !== Math.sign(q);
  return { position: { quantity: next, entryPrice: flipped ? fill.price : entry }, realizedUsd };
}

/**
 * Applies a fill to the account (mutates it): the position, the realized PnL entry, and the
 * reservation of its decision, which the fill consumes. Returns whether the decision had an
 * open reservation (a fill for an unknown decision is still applied, and flagged).
 */
export function applyFill(state: AccountState, fill: ExposureFill): { reservationFound: boolean } {
  // A fill the last reconciliation already includes (a late report) leaves the position as the snapshot says.
  if (state.reconciledAt === null || fill.executedAt > state.reconciledAt) {
    const { position, realizedUsd } = applyFillToPosition(state.positions[fill.symbol], fill);
    state.positions[fill.symbol] = position;
    if (realizedUsd !== 0) addRealized(state, fill.executedAt, realizedUsd);
  }
  if (fill.decisionId === undefined) return { reservationFound: false };
  const r = state.reservations.find((x) => x.decisionId === fill.decisionId);
  if (!r) return { reservationFound: false };
  r.quantity -= fill.quantity;
  if (r.quantity <= QTY_EPSILON) state.reservations = state.reservations.filter((x) => x !== r);
  return { reservationFound: true };
}

function addRealized(state: AccountState, at: number, usd: number): void {
  const bucket = Math.floor(at / REALIZED_BUCKET_MS) * REALIZED_BUCKET_MS;
  const found = state.realized.find((e) => e.at === bucket);
  if (found) found.usd += usd;
  else state.realized.push({ at: bucket, usd });
}

/**
 * Replaces the positions with a snapshot taken at `asOf` and applies on top the fills
 * executed after it (`laterFills`, any order), position only: their realized PnL and
 * reservations were counted when they arrived. Mutates `state`.
 */
export function reconcile(state: AccountState, asOf: number, snapshot: readonly SnapshotPosition[], laterFills: readonly ExposureFill[]): void {
  state.positions = {};
  for (const p of snapshot) state.positions[p.symbol] = { quantity: p.quantity, entryPrice: p.entryPrice };
  for (const f of [...laterFills].filter((x) => x.executedAt > asOf).sort((a, b) => a.executedAt - b.executedAt || (a.fillId < b.fillId ? -1 : 1)))
    state.positions[f.symbol] = applyFillToPosition(state.positions[f.symbol], f).position;
  state.reconciledAt = asOf;
}

/** Drops reservations past their expiry and realized entries older than the window (mutates). */
export function purge(state: AccountState, now: number, maxLossWindowMs: number): void {
  state.reservations = state.reservations.filter((r: Reservation) => r.expiresAt > now);
  state.realized = state.realized.filter((e) => e.at > now - maxLossWindowMs);
}

/** Realized PnL within the window plus unrealized PnL at the marks; null when a held symbol has no mark. */
export function accountPnl(state: AccountState, marks: Readonly<Record<string, number>>, now: number, windowMs: number): number | null {
  let pnl = 0;
  for (const e of state.realized) if (e.at > now - windowMs) pnl += e.usd;
  for (const [symbol, p] of Object.entries(state.positions)) {
    if (Math.abs(p.quantity) <= QTY_EPSILON) continue;
    const mark = marks[symbol];
    if (mark === undefined) return null;
    pnl += p.quantity * (mark - p.entryPrice);
  }
  return pnl;
}
