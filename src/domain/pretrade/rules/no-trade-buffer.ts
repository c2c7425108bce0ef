import { BOUNDARY_EPS_BPS, r2 } from '../numbers.js';
import { reason, type Rule } from '../rule.js';
import { utcHourAndWeekday } from '../time-of-day.js';

/** No new position within the buffer of a major cluster; the buffer widens as liquidity thins. */
export const noTradeBufferRule: Rule = {
  name: 'no-trade buffer',
  appliesTo: 'risk-adding',
  needs: 'market',
  check(f, _order, policy) {
    const m = f.m;
    if (m === null || !m.inBuffer || m.major === null) return null;
    const where = m.marketable ? `Marketable limit ${m.ref} (executes through the mark ${m.mark})` : `Reference price ${m.ref}`;
    const out = [
      {
        reject: reason(
          'NO_TRADE_BUFFER',
          `${where} is ${r2(m.majorD)} bps from the major ${m.major.side} cluster at ${m.major.peakPrice} (buffer ${r2(m.buffer)} bps).`,
          r2(m.buffer),
          r2(m.majorD),
        ),
      },
    ];
    if (m.majorD > policy.noTradeBufferBps + BOUNDARY_EPS_BPS) {
      const { hour } = utcHourAndWeekday(f.now);
      out.push({
        reject: reason(
          'TIME_OF_DAY',
          `Low-liquidity hour (${hour}:00 UTC, multiplier ${r2(f.tod)}) widened the buffer from ${policy.noTradeBufferBps} to ${r2(m.buffer)} bps.`,
          r2(f.tod),
          hour,
        ),
      });
    }
    return out;
  },
};
