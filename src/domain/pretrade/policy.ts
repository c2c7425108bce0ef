import { z } from 'zod';

/**
 * Pre-trade policy. PLACEHOLDER: the pre-trade rules work replaces this with the real
 * policy. Contract: a strict zod object whose every field has a default, so
 * `PretradePolicySchema.parse({})` gives the documented defaults and a policy file can
 * override any subset per symbol (unknown keys are errors).
 */
export const PretradePolicySchema = z.object({}).strict();
export type PretradePolicy = z.infer<typeof PretradePolicySchema>;
