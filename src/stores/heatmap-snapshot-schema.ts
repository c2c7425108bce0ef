import { z } from 'zod';
import type { HeatmapSnapshot } from './heatmap-store.js';

/**
 * What a stored heatmap must look like before anyone serves it or gates on it. JSON turns
 * NaN and Infinity into null, so a map built from bad numbers comes back with null bounds
 * (a cluster the gate cannot see) or missing arrays (every check throws): such a snapshot
 * is treated as missing, which makes the gate fail closed (HEATMAP_STALE). zod 4's
 * z.number() accepts only finite numbers.
 */
const num = z.number();
const SideSchema = z.enum(['long', 'short']);
const LevelSchema = z.object({ price: num, size: num });

const HeatmapSchema = z.object({
  symbol: z.string(),
  venues: z.array(z.string()),
  asOf: num,
  markPrice: num.positive(),
  binBps: num.positive(),
  rangePct: num.positive(),
  bins: z.array(z.object({ price: num, longUsd: num, shortUsd: num, probability: num })),
  clusters: z.array(
    z.object({
      side: SideSchema,
      peakPrice: num,
      priceLow: num,
      priceHigh: num,
      notionalUsd: num,
      share: num,
      distanceBps: num,
      major: z.boolean(),
    }),
  ),
  crowding: z.object({ side: z.enum(['long', 'short', 'neutral']), strength: num, fundingRate: num, oiChangePct: num }),
  risk: z.object({ score: num, inputs: z.record(z.string(), num) }),
  totalLongUsd: num,
  totalShortUsd: num,
  openInterestUsd: num,
  // Optional: maps written before these existed lack them (the gate treats that as unknown).
  volatility: z.object({ realizedBpsPerHour: num.nonnegative().nullable(), bars: z.number().int().nonnegative() }).optional(),
  funding: z
    .object({ rate: num.nullable(), percentile: num.min(0).max(1).nullable(), samples: z.number().int().nonnegative() })
    .optional(),
});

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

export const StoredSnapshotSchema = z.object({
  symbol: z.string().min(1),
  version: z.number().int(),
  asOf: num,
  dataAsOf: num.optional(),
  source: z.string(),
  venues: z.array(z.string()),
  heatmap: HeatmapSchema,
  orderBook: z.object({ ts: num, bids: z.array(LevelSchema), asks: z.array(LevelSchema) }).nullable(),
  spec: MarketSpecSchema.nullable().optional(),
});

export type SnapshotCheck = { ok: true; snapshot: HeatmapSnapshot } | { ok: false; problem: string };

/** Validates something read from a store (parsed JSON); never throws. */
export function checkStoredSnapshot(raw: unknown): SnapshotCheck {
  const r = StoredSnapshotSchema.safeParse(raw);
  if (r.success) return { ok: true, snapshot: r.data };
  const first = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, problem: first.join('; ') };
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

/** Thrown by a store asked to write a snapshot with non-finite numbers. */
export class InvalidSnapshotError extends Error {
  constructor(readonly paths: string[]) {
    super(`heatmap snapshot has non-finite numbers at ${paths.join(', ')}; not written`);
    this.name = 'InvalidSnapshotError';
  }
}
