import { z } from 'zod';
import { HeatmapSchema, RealizedLiquidationSchema } from '../domain/heatmap/types.js';
import { ConfidenceSchema, ModelHealthSchema } from '../domain/model-health/types.js';
import type { HeatmapSnapshot, NewHeatmapSnapshot } from './heatmap-store.js';

/**
 * What a stored heatmap must look like before anyone serves it or gates on it. JSON turns
 * NaN and Infinity into null, so a map built from bad numbers comes back with null bounds
 * (a cluster the gate cannot see) or missing arrays (every check throws): such a snapshot
 * is refused on write and treated as missing on read, which makes the gate fail closed
 * (HEATMAP_STALE). The heatmap itself is the domain's schema.
 */
const num = z.number();
const LevelSchema = z.object({ price: num, size: num });

/** Each venue rule is a finite positive number or null (not published); a zero tick or a negative minimum is corrupt. */
const specField = num.positive().nullable();
export const MarketSpecSchema = z.object({
  tickSize: specField,
  quantityStep: specField,
  minQuantity: specField,
  maxQuantity: specField,
  minNotionalUsd: specField,
  maxLeverage: specField,
});

/** What the poller publishes per symbol and every replica serves from memory (HeatmapSnapshot). */
export const StoredSnapshotSchema = z.object({
  symbol: z.string().min(1),
  /** Monotonic per symbol, assigned by the store on write. */
  version: z.number().int(),
  /** Epoch ms of the data the heatmap reflects. */
  asOf: num,
  /**
   * Epoch ms of the oldest newest-bar close among the venues in the map (how old the
   * underlying data is); `asOf` is when the market was last observed. Absent on maps
   * written before this field existed.
   */
  dataAsOf: num.optional(),
  /** Market source that produced it: `sim`, `ccxt` or `replay`. */
  source: z.string(),
  venues: z.array(z.string()),
  heatmap: HeatmapSchema,
  /** Aggregated top of book at `asOf`, or null when no venue answered. */
  orderBook: z.object({ ts: num, bids: z.array(LevelSchema), asks: z.array(LevelSchema) }).nullable(),
  /** The venues' trading rules (strictest wins), when the source publishes them; absent on older maps. */
  spec: MarketSpecSchema.nullable().optional(),
  /** The model's rolling score against realized liquidations when this map was built; absent on older maps. */
  health: ModelHealthSchema.optional(),
  /** How far to trust this map (0..1, with its parts); absent on older maps (the gate then assumes the lowest). */
  confidence: ConfidenceSchema.optional(),
  /**
   * Realized liquidations the source reported for the symbol in the last hours, newest first
   * (see RECENT_LIQUIDATIONS in the poller's assembly); absent on maps written before it
   * existed and from sources that report none.
   */
  recentLiquidations: z.array(RealizedLiquidationSchema).optional(),
});
export type StoredSnapshot = z.infer<typeof StoredSnapshotSchema>;

/** A snapshot about to be written: the store assigns the version. */
const NewSnapshotSchema = StoredSnapshotSchema.omit({ version: true });

export type SnapshotCheck = { ok: true; snapshot: HeatmapSnapshot } | { ok: false; problem: string };

/** Validates something read from a store (parsed JSON); never throws. */
export function checkStoredSnapshot(raw: unknown): SnapshotCheck {
  const r = StoredSnapshotSchema.safeParse(raw);
  return r.success ? { ok: true, snapshot: r.data } : { ok: false, problem: problemOf(r.error) };
}

const problemOf = (e: z.ZodError): string =>
  e.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');

/**
 * The write hop's check, done once by the store's put: a snapshot with non-finite numbers
 * (named, as JSON would store them as null) or otherwise off the schema is refused, so a
 * store holds only maps every reader may serve. Throws InvalidSnapshotError.
 */
export function assertWritableSnapshot(snapshot: NewHeatmapSnapshot): void {
  const bad = nonFinitePaths(snapshot);
  if (bad.length > 0) throw new InvalidSnapshotError(`non-finite numbers (${bad.join(', ')})`, bad);
  const r = NewSnapshotSchema.safeParse(snapshot);
  if (!r.success) throw new InvalidSnapshotError(problemOf(r.error), r.error.issues.map((i) => i.path.join('.')));
}

/** Parses and validates a stored JSON document; never throws. */
export function checkStoredJson(json: string): SnapshotCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return { ok: false, problem: `not JSON: ${(err as Error).message}` };
  }
  return checkStoredSnapshot(raw);
}

/** Paths of numbers that are NaN or infinite (JSON would silently store them as null), at most `limit`. */
export function nonFinitePaths(value: unknown, limit = 5): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (out.length >= limit) return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) out.push(path || '(root)');
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length && out.length < limit; i++) walk(v[i], `${path}[${i}]`);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(value, '');
  return out;
}

/** Thrown by a store asked to write a snapshot with non-finite numbers or off the schema. */
export class InvalidSnapshotError extends Error {
  constructor(
    readonly problem: string,
    readonly paths: string[],
  ) {
    super(`heatmap snapshot has ${problem}; not written`);
    this.name = 'InvalidSnapshotError';
  }
}
