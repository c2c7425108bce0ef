import { z } from 'zod';

/**
 * How the service scores its own heatmaps against the liquidations that then happened
 * (docs/model.md, "Live health and confidence"). Part of the model parameters
 * (`model.health` in the policy), so a symbol with sparse liquidations can be given a longer
 * period or a lower event minimum.
 */
export const ModelHealthParamsSchema = z
  .object({
    /** Length of one scored period (minutes): the ladder at its start against what it then realized. The price-level eval scores hours. */
    periodMinutes: z.number().gt(0).max(1440).default(60),
    /** Closed periods the rolling scores are computed over (72 one-hour periods: three days). */
    windowPeriods: z.number().int().min(2).max(10_000).default(72),
    /** Fewer realized liquidations than this in the window: health is `unknown` (unhealthy). */
    minEvents: z.number().int().min(1).default(30),
    /** Fewer scored periods than this for a score: that score is null and health `unknown` (as the eval's 5 scored hours). */
    minScoredPeriods: z.number().int().min(2).default(5),
    /** `healthy` needs the swept-mass Spearman at or above this... */
    healthyMinSweptMass: z.number().min(-1).max(1).default(0.3),
    /** ...and the mean per-period price-level Spearman at or above this; otherwise `degraded`. */
    healthyMinPriceLevel: z.number().min(-1).max(1).default(0.1),
    /** The accuracy part of the confidence while health is `unknown`; a degraded model gets at most this. */
    unknownAccuracy: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type ModelHealthParams = z.infer<typeof ModelHealthParamsSchema>;
