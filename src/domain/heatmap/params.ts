import { z } from 'zod';

/**
 * Heatmap model parameters. PLACEHOLDER: the heatmap-engine work replaces this with the
 * real parameter set. Contract: a strict zod object whose every field has a default, so
 * `HeatmapParamsSchema.parse({})` gives the documented defaults and a policy file can
 * override any subset (unknown keys are errors).
 */
export const HeatmapParamsSchema = z.object({}).strict();
export type HeatmapParams = z.infer<typeof HeatmapParamsSchema>;
