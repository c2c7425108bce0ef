import type { LiquidationEvent } from './price-level.js';

/**
 * Parses a liquidation-events CSV (columns found by header name):
 * time from `trade_time_ms`, `timestamp` or `time_ms`; side from `liquidated_position`
 * (long/short) or else `side`, the liquidation ORDER's side (SELL = a long was
 * liquidated); price from `avg_price` (else `price`); USD from `notional_usd_avgpx` or
 * `notional_usd`, else filled quantity × price. Throws naming the line on a bad row.
 */
export function parseLiquidationEventsCsv(text: string): LiquidationEvent[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = (...names: string[]): number => {
    for (const n of names) {
      const i = header.indexOf(n);
      if (i >= 0) return i;
    }
    return -1;
  };
  const tCol = col('trade_time_ms', 'timestamp', 'time_ms');
  const posCol = col('liquidated_position');
  const orderSideCol = col('side');
  const priceCol = col('avg_price', 'price');
  const usdCol = col('notional_usd_avgpx', 'notional_usd');
  const qtyCol = col('filled_accum_qty', 'orig_qty', 'qty');
  if (tCol < 0 || priceCol < 0 || (posCol < 0 && orderSideCol < 0) || (usdCol < 0 && qtyCol < 0)) {
    throw new Error(`events file needs a time, a side, a price and a notional or quantity column (header: ${header.join(',')})`);
  }
  const out: LiquidationEvent[] = [];
  for (const [n, line] of lines.slice(1).entries()) {
    const c = line.split(',').map((s) => s.trim());
    const ts = Number(c[tCol]);
    const price = Number(c[priceCol]);
    const usd = usdCol >= 0 ? Number(c[usdCol]) : Number(c[qtyCol]) * price;
    const pos = posCol >= 0 ? (c[posCol] ?? '').toLowerCase() : '';
    const orderSide = orderSideCol >= 0 ? (c[orderSideCol] ?? '').toUpperCase() : '';
    const side = pos === 'long' || pos === 'short' ? pos : orderSide === 'SELL' ? 'long' : orderSide === 'BUY' ? 'short' : null;
    if (side === null || !Number.isFinite(ts) || !(price > 0) || !(usd >= 0)) {
      throw new Error(`events line ${n + 2}: need a time, a side (long/short or BUY/SELL), a positive price and a notional`);
    }
    out.push({ ts, side, price, usd });
  }
  return out.sort((a, b) => a.ts - b.ts);
}
