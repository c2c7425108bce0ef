import { r2 } from '../numbers.js';
import { px, reason, type Rule } from '../rule.js';
import { liquidationDistance, liquidationPrice, positionSide } from '../../margin.js';
import { floor2 } from './leverage.js';

/**
 * The position's liquidation price must lie beyond the far edge of every major zone of its
 * side, plus `liqClearanceBps`: a cascade through a zone carries price across all of it.
 * Rejects exactly when leverage exceeds the bound, so more leverage never turns a REJECT
 * into an APPROVE.
 */
export const ownLiquidationRule: Rule = {
  name: 'own liquidation',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, order, policy) {
    const m = f.m;
    const L = f.leverage;
    if (m === null || L === null || m.zoneLeverageCluster === null || !(L > m.zoneLeverage)) return null;
    const c = m.zoneLeverageCluster;
    const liq = liquidationPrice(positionSide(order.side), m.worstEntry, liquidationDistance(L, f.maintenanceRate));
    const edge = m.buy ? c.priceLow : c.priceHigh;
    const safe = floor2(m.zoneLeverage);
    const hint = safe >= 1 ? ` Leverage of at most ${safe}x clears it.` : ' No leverage of 1x or more clears it.';
    return {
      reject: reason(
        'OWN_LIQUIDATION_IN_CLUSTER',
        `At ${L}x the position's liquidation price ${px(f, liq)} (entry ${px(f, m.worstEntry)}) is nearer the mark than the far edge ${px(f, edge)} of the major ${c.side} cluster ${px(f, c.priceLow)}-${px(f, c.priceHigh)} plus the clearance of ${policy.liqClearanceBps} bps.${hint}`,
        r2(safe),
        L,
      ),
    };
  },
};
