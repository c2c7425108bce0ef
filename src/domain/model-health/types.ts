import { z } from 'zod';

/**
 * The shapes of the live model health and of a heatmap's confidence, declared once: the
 * stored snapshot, the /symbols response and the decision are built on these.
 */
const num = z.number();

export const HEALTH_STATUSES = ['healthy', 'degraded', 'unknown'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export const ModelHealthSchema = z.object({
  status: z
    .enum(HEALTH_STATUSES)
    .describe('healthy: both rolling scores at or above their thresholds; degraded: enough events but a score below; unknown: too few events or scored periods (counts as unhealthy)'),
  sweptMass: num
    .nullable()
    .describe('Rolling swept-mass score: Spearman, across the scored periods, of the ladder notional inside the traded range vs the realized liquidation USD (mean of the sides); null with too few periods'),
  priceLevel: num
    .nullable()
    .describe('Rolling price-level score: mean per-period Spearman across the traded price bins of ladder vs realized USD; null with too few scored periods'),
  events: z.number().int().nonnegative().describe('Realized liquidations in the window'),
  periods: z.number().int().nonnegative().describe('Closed periods in the window'),
  windowMs: num.describe('Nominal length of the window (periods x period length)'),
});
export type ModelHealth = z.infer<typeof ModelHealthSchema>;

export const ConfidenceSchema = z.object({
  value: num.min(0).max(1).describe('0..1: the weakest of the parts (1 - unlocatedShare, venueCoverage, accuracy)'),
  unlocatedShare: num.min(0).max(1).describe("Share of the book's open interest whose entry (so liquidation price) the model does not know"),
  venueCoverage: num.min(0).max(1).describe('Venues that fed the map / venues configured for the symbol'),
  accuracy: num.min(0).max(1).describe('From the live health: 1 healthy; unknown: the policy value (default 0.5); degraded: at most that, scaled by the weaker score'),
});
export type Confidence = z.infer<typeof ConfidenceSchema>;
