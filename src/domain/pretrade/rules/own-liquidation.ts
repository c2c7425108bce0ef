import { r2 } from '../numbers.js';
import { reason, type Rule } from '../rule.js';
import type { OrderSide } from '../types.js';

/** Own liquidation price under isolated margin (entry at `entry`, leverage L, maintenance margin rate mmr), first-order form. */
export function liquidationPrice(side: OrderSide, entry: number, leverage: number, mmr: number): number {
  return side === 'buy' ? entry * (1 - 1 / leverage + mmr) : entry * (1 + 1 / leverage - mmr);
}

/** The position's own liquidation price must not land in a major zone of its side. */
export const ownLiquidationRule: Rule = {
  name: 'own liquidation',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, order, policy) {
    const m = f.m;
    if (m === null || order.leverage === undefined) return null;
    const mmr = policy.maintenanceMarginRate;
    // A marketable order's entry lies between the mark and its limit, so its liquidation
    // lies in the matching interval: any overlap with the zone rejects.
    const entryLo = m.marketable ? Math.min(m.ref, m.mark) : m.ref;
    const entryHi = m.marketable ? Math.max(m.ref, m.mark) : m.ref;
    const liqA = liquidationPrice(order.side, entryLo, order.leverage, mmr);
    const liqB = liquidationPrice(order.side, entryHi, order.leverage, mmr);
    const liqLo = Math.min(liqA, liqB);
    const liqHi = Math.max(liqA, liqB);
    const liq = liqLo === liqHi ? r2(liqLo) : `${r2(liqLo)}-${r2(liqHi)}`;
    // The entry that needs the lowest leverage to clear the zone (buy: highest, sell: lowest).
    const worst = m.buy ? entryHi : entryLo;
    for (const c of m.heatmap.clusters) {
      if (!c.major || c.side !== m.adverseSide || liqHi < c.priceLow || liqLo > c.priceHigh) continue;
      const edge = m.buy ? c.priceLow : c.priceHigh;
      const maxLev = m.buy ? 1 / (1 + mmr - edge / worst) : 1 / (edge / worst - 1 + mmr);
      const hint = Number.isFinite(maxLev) && maxLev >= 1 ? ` Leverage below ${r2(Math.floor(maxLev * 100) / 100)}x clears it.` : '';
      return {
        reject: reason(
          'OWN_LIQUIDATION_IN_CLUSTER',
          `At ${order.leverage}x the position's liquidation price ${liq} lies inside the major ${c.side} cluster ${c.priceLow}-${c.priceHigh}.${hint}`,
          `${c.priceLow}-${c.priceHigh}`,
          liq,
        ),
      };
    }
    return null;
  },
};
