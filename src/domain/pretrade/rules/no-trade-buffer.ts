import { BOUNDARY_EPS_BPS, r2 } from '../numbers.js';
import { px, reason, type Rule, type RuleOutcome } from '../rule.js';
import { factorReasons } from './size-caps.js';

/**
 * No new position within the buffer of a major cluster. The buffer widens as liquidity
 * thins (time of day), volatility rises, and for the exposed side in an extreme-funding
 * regime; and, against the adverse side's clusters, by a share of that side's cascade move
 * on the heatmap (a cluster whose liquidations would run on through the book, against the order).
 */
export const noTradeBufferRule: Rule = {
  name: 'no-trade buffer',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || !m.inBuffer || m.major === null) return null;
    const where = m.marketable
      ? `Marketable limit ${px(f, m.ref)} (executes through the mark ${px(f, m.mark)})`
      : m.isLimit
        ? `Limit price ${px(f, m.ref)}`
        : `The reference price (mark ${px(f, m.mark)}${m.mid === null ? '' : `, book mid ${px(f, m.mid)}`})`;
    const widening = m.major.side === m.adverseSide ? m.cascadeWidening : 0;
    const cascade = m.heatmap.cascades?.[m.major.side];
    const cascadeNote =
      widening > 0 && cascade
        ? `, of which ${r2(widening)} bps for the ${m.major.side} cascade that would move the price ${r2(cascade.moveBps)} bps past ${px(f, cascade.triggerPrice)} forcing ${r2(cascade.forcedUsd)} USD`
        : '';
    const out: RuleOutcome[] = [
      {
        reject: reason(
          'NO_TRADE_BUFFER',
          `${where} is ${r2(m.majorD)} bps from the major ${m.major.side} cluster at ${px(f, m.major.peakPrice)} (buffer ${r2(m.buffer)} bps${cascadeNote}).`,
          r2(m.buffer),
          r2(m.majorD),
        ),
      },
    ];
    // The multipliers that widened the buffer bound when the distance clears the buffer without them.
    if (m.majorD > policy.noTradeBufferBps + widening + BOUNDARY_EPS_BPS) {
      for (const r of factorReasons(f, `widened the no-trade buffer from ${r2(policy.noTradeBufferBps + widening)} to ${r2(m.buffer)} bps`)) out.push({ reject: r });
    }
    return out;
  },
};
