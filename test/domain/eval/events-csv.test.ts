import { describe, expect, it } from 'vitest';
import { parseLiquidationEventsCsv } from '../../../src/domain/eval/events-csv.js';

describe('parseLiquidationEventsCsv', () => {
  it('when only the order side is given, then SELL is a liquidated long and BUY a liquidated short', () => {
    const ev = parseLiquidationEventsCsv('trade_time_ms,side,avg_price,filled_accum_qty\n2000,BUY,101,2\n1000,SELL,100,0.5\n');
    expect(ev).toEqual([
      { ts: 1000, side: 'long', price: 100, usd: 50 },
      { ts: 2000, side: 'short', price: 101, usd: 202 },
    ]);
  });

  it('when liquidated_position and a notional column are present, then they win over the order side and quantity', () => {
    const ev = parseLiquidationEventsCsv('trade_time_ms,side,liquidated_position,price,avg_price,orig_qty,notional_usd_avgpx\n5,SELL,long,90,95,1,94.5\n');
    expect(ev).toEqual([{ ts: 5, side: 'long', price: 95, usd: 94.5 }]);
  });

  it('when a row has no usable side, then it throws naming the line', () => {
    expect(() => parseLiquidationEventsCsv('timestamp,side,price,notional_usd\n1,HOLD,100,5\n')).toThrow(/line 2/);
  });

  it('when a required column is missing, then it throws naming the header', () => {
    expect(() => parseLiquidationEventsCsv('timestamp,price\n1,100\n')).toThrow(/header/);
  });
});
