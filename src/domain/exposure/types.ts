import { z } from 'zod';

export type OrderSide = 'buy' | 'sell';

/** One position: signed base quantity (positive long, negative short) and its average entry price. */
export interface Position {
  quantity: number;
  entryPrice: number;
}

/** What an approved order may still do until a fill consumes it, the engine releases it, or it expires. */
export interface Reservation {
  decisionId: string;
  symbol: string;
  side: OrderSide;
  reduceOnly: boolean;
  /** Base units still reserved (fills consume it). */
  quantity: number;
  /** The price it was valued at (USD per unit). */
  price: number;
  /** Epoch ms. */
  expiresAt: number;
}

/** Realized PnL (USD, fees included) of the fills in one minute (`at` its start): the max-loss window sums them. */
export interface RealizedEntry {
  at: number;
  usd: number;
}

/** Realized PnL is kept per minute, so an account's state stays bounded however often it trades. */
export const REALIZED_BUCKET_MS = 60_000;

/**
 * Orders approved (and the notional approved, USD) in one bucket of the trading window
 * (`at` its start, buckets a tenth of the window wide): the trading limits count them.
 */
export interface ApprovalBucket {
  at: number;
  orders: number;
  usd: number;
}

/** Everything the exposure checks know about one account. */
export interface AccountState {
  accountId: string;
  positions: Record<string, Position>;
  reservations: Reservation[];
  /** `asOf` of the last reconciliation (PUT positions), or null if never reconciled. */
  reconciledAt: number | null;
  /** When the last risk-adding order of this account was approved, or null. */
  lastOpeningAt: number | null;
  /** Set when the max-loss limit was breached; cleared only by an admin. */
  reducing: { since: number; lossUsd: number } | null;
  realized: RealizedEntry[];
  /** Approvals of the trading window, oldest first (see ApprovalBucket). */
  approvals: ApprovalBucket[];
}

export function emptyAccount(accountId: string): AccountState {
  return { accountId, positions: {}, reservations: [], reconciledAt: null, lastOpeningAt: null, reducing: null, realized: [], approvals: [] };
}

/** An execution as the exposure store applies it (times in epoch ms). */
export interface ExposureFill {
  fillId: string;
  decisionId?: string | undefined;
  symbol: string;
  side: OrderSide;
  quantity: number;
  price: number;
  executedAt: number;
  fee?: number | undefined;
}

const SymbolSchema = z.string().regex(/^[A-Z0-9]{2,20}$/, 'an upper-case symbol id such as BTCUSDT');

/** One position of a reconciliation snapshot (the engine's or venue's view). */
export const SnapshotPositionSchema = z
  .object({
    symbol: SymbolSchema,
    quantity: z.number().finite().min(-1e12).max(1e12).describe('Signed base units: positive long, negative short, 0 flat'),
    entryPrice: z.number().finite().positive().max(1e9).describe('Average entry price'),
  })
  .strict();
export type SnapshotPosition = z.infer<typeof SnapshotPositionSchema>;

/** A tolerance on quantities: below it a position or a remaining reservation counts as none. */
export const QTY_EPSILON = 1e-12;
