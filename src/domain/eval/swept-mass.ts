import { spearman } from '../heatmap/spearman.js';

/**
 * The swept-mass score (docs/model.md, "Validation"): per period and side, the notional the
 * model held between the period's open and the extreme price reached on that side (long:
 * [low, open], short: [open, high]) against the liquidation USD realized; Spearman across
 * the periods whose swept range is not zero. Used by the walk-forward eval (scripts/eval.ts)
 * and by the live health (src/domain/model-health).
 */
export interface SweptPeriod {
  /** Swept range as a fraction of the open: (open − low) / open for longs, (high − open) / open for shorts. */
  range: number;
  predicted: number;
  realized: number;
}

/** Spearman of predicted vs realized over the periods with a swept range; NaN when undefined (fewer than 2, or a constant side). */
export function sweptMassScore(periods: readonly SweptPeriod[]): number {
  const scored = periods.filter((p) => p.range > 0);
  return spearman(
    scored.map((p) => p.predicted),
    scored.map((p) => p.realized),
  );
}
