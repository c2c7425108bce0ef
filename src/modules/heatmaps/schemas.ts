import { z } from 'zod';
import { CascadesSchema, ClusterSchema, CrowdingSchema, HeatmapBinSchema } from '../../domain/heatmap/types.js';
import { ConfidenceSchema, ModelHealthSchema } from '../../domain/model-health/types.js';

/**
 * The heatmap's parts are the domain's schemas (src/domain/heatmap/types.ts), answered as
 * they are; the response renames a few (bins as `ladder`, risk as `riskScore` and
 * `riskInputs`) and adds what the service knows (version, ages, staleness). Volatility,
 * funding and spec are declared here: the response answers "unknown" as null and
 * documents each field, where the stored map leaves them out.
 */

/** Symbol in the path: case-insensitive, answered in upper case. */
export const SymbolParamsSchema = z.object({
  symbol: z
    .string()
    .regex(/^[A-Za-z0-9]{2,20}$/, 'a symbol id such as BTCUSDT')
    .transform((s) => s.toUpperCase()),
});

export const HeatmapQuerySchema = z
  .object({
    rangePct: z.coerce
      .number()
      .gt(0)
      .max(0.5)
      .optional()
      .describe('Half-range of the ladder around the mark, as a fraction (0.05 = ±5%); at most the stored range (default: the stored range)'),
    binBps: z.coerce
      .number()
      .gt(0)
      .max(500)
      .optional()
      .describe('Bin width in bps of the mark; at least the stored bin width (default: the stored width)'),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('ISO 8601 time: answer with the newest heatmap at or before it, from history'),
  })
  .strict();
export type HeatmapQuery = z.infer<typeof HeatmapQuerySchema>;

export const HeatmapResponseSchema = z
  .object({
    symbol: z.string(),
    source: z.string().describe('Market source that produced the map: sim, ccxt or replay'),
    version: z.number().int().describe('Store version of the snapshot; changes whenever the map does'),
    venues: z.array(z.string()),
    asOf: z.string().describe('ISO time the market was observed for this map (the poll that built it)'),
    asOfMs: z.number().int(),
    ageMs: z.number().int().describe('Now minus asOf'),
    dataAsOf: z
      .string()
      .optional()
      .describe(
        'ISO close time of the oldest newest-bar among the venues in the map: how old the data behind it is (absent on maps written before it existed)',
      ),
    dataAsOfMs: z.number().int().optional(),
    dataAgeMs: z.number().int().optional().describe('Now minus dataAsOf'),
    stale: z.boolean().describe('True when ageMs exceeds the configured maximum age'),
    markPrice: z.number(),
    rangePct: z.number(),
    binBps: z.number(),
    ladder: z.array(HeatmapBinSchema).describe('Price bins, ascending'),
    clusters: z.array(ClusterSchema),
    crowding: CrowdingSchema,
    riskScore: z.number().describe('0..100, rising as the mark nears the largest cluster'),
    riskInputs: z.record(z.string(), z.number()),
    totalLongUsd: z.number(),
    totalShortUsd: z.number(),
    openInterestUsd: z.number(),
    volatility: z
      .object({
        realizedBpsPerHour: z
          .number()
          .nullable()
          .describe('Standard deviation of close-to-close log returns over the last `bars` bars, scaled to one hour, bps; null below the model minimum'),
        bars: z.number().int().describe('Returns it rests on'),
      })
      .nullable()
      .describe('Short-horizon realized volatility of the venues in the map (the highest venue); null on maps written before it existed'),
    funding: z
      .object({
        rate: z.number().nullable().describe('Latest settled funding rate, fraction per 8h, weighted by open interest; null when unknown'),
        percentile: z
          .number()
          .nullable()
          .describe("Mid-rank (0..1) of the latest rate in the symbol's own funding history: (samples below + half the equal ones) / samples; null when the history is too short"),
        samples: z.number().int().describe('Samples in the longest venue history'),
      })
      .nullable()
      .describe('Where funding sits in its own history; null on maps written before it existed'),
    cascades: CascadesSchema.nullable().describe(
      'How the major clusters\' forced orders would propagate through the thinned order book, per side (docs/model.md, "Cascades"); null on maps written before it existed',
    ),
    spec: z
      .object({
        tickSize: z.number().nullable(),
        quantityStep: z.number().nullable().describe('Base units'),
        minQuantity: z.number().nullable().describe('Base units'),
        maxQuantity: z.number().nullable().describe('Base units; the market-order cap where a venue publishes one'),
        minNotionalUsd: z.number().nullable(),
        maxLeverage: z.number().nullable(),
      })
      .nullable()
      .describe("The venues' trading rules, strictest venue in the map winning; a field is null when no venue publishes it, the whole is null when the source publishes none (replay, older maps)"),
    confidence: ConfidenceSchema.nullable().describe(
      'How far to trust this map (docs/model.md, "Live health and confidence"); the gate widens its buffer and tightens its size caps below the policy\'s confidenceFullAt. Null on maps written before it existed (the gate treats that as 0)',
    ),
    recentLiquidations: z
      .array(
        z.object({
          at: z.string().describe('ISO time of the liquidation'),
          atMs: z.number().describe('Epoch ms'),
          side: z.enum(['long', 'short']).describe("The liquidated POSITION's side (a long is liquidated by a sell order)"),
          price: z.number().describe('Price it was liquidated at (the venue\'s fill or bankruptcy price)'),
          usd: z.number().describe('Notional liquidated, USD'),
          venue: z.string().nullable().describe('Exchange that reported it, when known'),
        }),
      )
      .describe(
        'Realized liquidations the venues reported for the symbol in the last 6 hours, newest first, at most 200; the model has taken each one\'s notional off that side of the ladder where the price reached it, unless its bar\'s sweep already had. Empty when the source reports none (or on maps written before it existed)',
      ),
  })
  .meta({ id: 'Heatmap' });
export type HeatmapResponse = z.infer<typeof HeatmapResponseSchema>;

/** The model's live health as a snapshot carries it, with whether the gate counts it as healthy. */
const ModelHealthStatusSchema = ModelHealthSchema.extend({
  healthy: z.boolean().describe('status is healthy (unknown and degraded are not)'),
});

const VenueStatusSchema = z.object({
  venue: z.string(),
  state: z.enum(['closed', 'open', 'half_open', 'misconfigured']).describe('Circuit breaker state'),
  consecutiveFailures: z.number().int(),
  lastSuccessAt: z.string().nullable(),
  lastError: z.string().nullable(),
  retryAt: z.string().nullable().describe('Not called before this time (backoff or open breaker)'),
  lastBarCloseAt: z.string().nullable().optional().describe('Close time of the newest bar ingested from this venue'),
  contributing: z.boolean().optional().describe('Whether the venue fed the last map (fresh bars and a successful call)'),
});

export const SymbolStatusSchema = z.object({
  symbol: z.string(),
  source: z.string(),
  venues: z.array(z.string()).describe('Venues the source serves for this symbol'),
  polling: z.boolean().describe('True when this replica polls the symbol'),
  leader: z.string().nullable().describe('Instance id of the replica polling it, when known'),
  version: z.number().int().nullable(),
  asOf: z.string().nullable(),
  ageMs: z.number().int().nullable(),
  dataAsOf: z.string().nullable().optional().describe('Close time of the oldest newest-bar among the venues in the map'),
  stale: z.boolean(),
  lastSuccessAt: z.string().nullable().describe('Last heatmap written by this replica'),
  lastError: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  venueStatus: z.array(VenueStatusSchema).describe('Per-venue backoff and breaker state (on the polling replica)'),
  modelHealth: ModelHealthStatusSchema.nullable()
    .describe("The model's rolling score against realized liquidations, as of the latest map; null when the map carries none"),
  confidence: ConfidenceSchema.nullable().describe("The latest map's confidence (0..1 with its parts); null when it carries none"),
});

export const SymbolsResponseSchema = z
  .object({
    instanceId: z.string(),
    maxAgeMs: z.number().int(),
    symbols: z.array(SymbolStatusSchema),
    policy: z
      .object({
        version: z.string().describe("This replica's policyVersion"),
        replicas: z
          .array(z.object({ instanceId: z.string(), version: z.string() }))
          .nullable()
          .describe('Every live replica on the shared store and the policyVersion it runs (this one included); null when the registry could not be read'),
        agree: z.boolean().nullable().describe('Whether every live replica runs the same policyVersion (false during a rolling policy change); null when unknown'),
      })
      .describe('Policy versions across replicas: replicas that disagree decide the same order differently'),
  })
  .meta({ id: 'Symbols' });
export type SymbolsResponse = z.infer<typeof SymbolsResponseSchema>;

const instant = z.iso.datetime({ offset: true });

export const HeatmapHistoryQuerySchema = z
  .object({
    from: instant.optional().describe('ISO 8601; default 6 h before `to`'),
    to: instant.optional().describe('ISO 8601; default now'),
    columns: z.coerce.number().int().min(2).max(288).default(96).describe('Time columns (one history read each, in one round trip)'),
    rows: z.coerce.number().int().min(10).max(400).default(120).describe('Price rows of the common grid'),
    rangePct: z.coerce.number().min(0.005).max(0.5).default(0.05).describe('Grid half-range around the current mark, as a fraction'),
  })
  .strict();

export const HeatmapHistorySchema = z
  .object({
    symbol: z.string(),
    from: z.string(),
    to: z.string(),
    priceLow: z.number().describe('Bottom edge of row 0'),
    priceHigh: z.number().describe('Top edge of the last row'),
    rows: z.number().int(),
    columns: z
      .array(
        z.object({
          at: z.string().describe('ISO end of the column'),
          asOf: z.string().nullable().describe('ISO time of the map shown in it; null when history holds none'),
          markPrice: z.number().nullable(),
          stale: z.boolean().describe('The map is older than the maximum heatmap age at the column'),
        }),
      )
      .describe('Oldest first'),
    longUsd: z.array(z.array(z.number())).describe('[column][row]: long notional whose liquidation falls in the row'),
    shortUsd: z.array(z.array(z.number())).describe('[column][row]: short notional'),
    maxCellUsd: z.number().describe('Largest long + short of any cell: the top of the colour scale'),
    current: z
      .object({
        asOf: z.string(),
        markPrice: z.number(),
        stale: z.boolean(),
        clusters: z.array(ClusterSchema).describe('The clusters the gate decides with, from the same in-memory map'),
        riskScore: z.number(),
        bufferBps: z
          .object({ buy: z.number(), sell: z.number() })
          .describe("The no-trade buffer (bps of the mark) a new buy / sell gets now against its adverse side's major zones: the gate's, with the confidence factor and the cascade widening"),
        confidence: ConfidenceSchema.nullable().describe("The map's confidence the gate decides with (0..1 with its parts); null when the map carries none (the gate treats that as 0)"),
        confidenceFullAt: z
          .number()
          .describe("The policy's confidenceFullAt for the symbol: below it the gate widens the buffer and tightens the size caps"),
        health: ModelHealthStatusSchema.nullable().describe("The model's rolling score against realized liquidations as of the map; null when the map carries none"),
      })
      .nullable(),
    liquidations: z
      .array(
        z.object({
          at: z.string().describe('ISO time of the liquidation'),
          side: z.enum(['long', 'short']).describe("The liquidated POSITION's side"),
          price: z.number(),
          usd: z.number(),
          venue: z.string().nullable(),
        }),
      )
      .describe("Realized liquidations between from and to, oldest first: those the maps read carry (each map keeps its last 6 hours' as recentLiquidations)"),
  })
  .meta({ id: 'HeatmapHistory' });
export type HeatmapHistory = z.infer<typeof HeatmapHistorySchema>;
