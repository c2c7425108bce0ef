import type { Bar } from '../src/domain/market-data.js';

/**
 * Bars CSV (the project's bars format) with the realized `liq_long_usd` / `liq_short_usd`
 * columns kept beside each bar, for scripts that score against them (eval, backtest).
 * The model only ever sees `bar`.
 */
export interface BarRow {
  bar: Bar;
  liqLong: number | undefined;
  liqShort: number | undefined;
}

export function parseBarsWithLiquidations(text: string): { rows: BarRow[]; hasLiq: boolean } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = (name: string): number => header.indexOf(name);
  for (const req of ['timestamp', 'open', 'high', 'low', 'close', 'open_interest_usd']) {
    if (col(req) < 0) throw new Error(`bars file has no "${req}" column (header: ${header.join(',')})`);
  }
  const num = (cells: string[], name: string): number | undefined => {
    const i = col(name);
    if (i < 0) return undefined;
    const s = (cells[i] ?? '').trim();
    if (s === '') return undefined;
    const v = Number(s);
    return Number.isFinite(v) ? v : undefined;
  };
  const hasLiq = col('liq_long_usd') >= 0 && col('liq_short_usd') >= 0;
  const rows: BarRow[] = [];
  for (const [n, line] of lines.slice(1).entries()) {
    const c = line.split(',');
    const ts = num(c, 'timestamp');
    const open = num(c, 'open');
    const high = num(c, 'high');
    const low = num(c, 'low');
    const close = num(c, 'close');
    const oi = num(c, 'open_interest_usd');
    if (ts === undefined || open === undefined || high === undefined || low === undefined || close === undefined || oi === undefined) {
      throw new Error(`line ${n + 2}: missing a required value`);
    }
    rows.push({
      bar: { ts, open, high, low, close, volume: num(c, 'volume'), openInterestUsd: oi, fundingRate: num(c, 'funding_rate') },
      liqLong: num(c, 'liq_long_usd'),
      liqShort: num(c, 'liq_short_usd'),
    });
  }
  return { rows, hasLiq };
}
