import type { RealizedLiquidation, Side } from '../domain/market-data.js';

/**
 * Reader and writer for the realized-liquidations file of a replay directory
 * (`<SYMBOL>.liquidations.csv`, beside the bars file):
 *
 *   ts,side,price,usd,venue
 *
 * `ts` is epoch ms or an ISO time; `side` is the liquidated POSITION's side, `long` or
 * `short` (not the liquidation order's side, which is the opposite: order sides are refused
 * so a file cannot mean the wrong thing); `usd` the notional; `venue` optional. Columns are
 * found by header name. Rows come back oldest first.
 */

export const LIQUIDATIONS_CSV_HEADER = ['ts', 'side', 'price', 'usd', 'venue'] as const;

export function parseLiquidationsCsv(text: string, file = '<liquidations>'): RealizedLiquidation[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = new Map(header.map((h, i) => [h, i]));
  const missing = ['ts', 'side', 'price', 'usd'].filter((c) => !col.has(c));
  if (missing.length > 0) throw new Error(`${file}:1: header lacks column(s) ${missing.join(', ')}`);
  const out: RealizedLiquidation[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]?.trim() ?? '';
    if (raw === '') continue;
    const cells = raw.split(',').map((c) => c.trim());
    const cell = (name: string): string => cells[col.get(name) ?? -1] ?? '';
    const where = `${file}:${i + 1}`;
    const tsText = cell('ts');
    const ts = /^\d+$/.test(tsText) ? Number(tsText) : Date.parse(tsText);
    if (!Number.isFinite(ts) || ts <= 0) throw new Error(`${where}: ts must be epoch ms or an ISO time, got "${tsText}"`);
    const side = cell('side').toLowerCase();
    if (side !== 'long' && side !== 'short') throw new Error(`${where}: side must be the liquidated position's side, long or short, got "${cell('side')}"`);
    const price = Number(cell('price'));
    const usd = Number(cell('usd'));
    if (!(price > 0) || !Number.isFinite(price)) throw new Error(`${where}: price must be a positive number`);
    if (!(usd > 0) || !Number.isFinite(usd)) throw new Error(`${where}: usd must be a positive number`);
    const venue = cell('venue');
    out.push({ ts, side: side as Side, price, usd, ...(venue === '' ? {} : { venue }) });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

export function formatLiquidationsCsv(events: readonly RealizedLiquidation[]): string {
  const rows = events.map((e) => [e.ts, e.side, e.price, e.usd, e.venue ?? ''].join(','));
  return `${LIQUIDATIONS_CSV_HEADER.join(',')}\n${rows.map((r) => `${r}\n`).join('')}`;
}
