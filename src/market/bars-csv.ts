import type { Bar } from '../domain/market-data.js';

/**
 * Reader and writer for the bars CSV format shared by replay, record and the
 * calibration data (`../shared/data/README.md`):
 *
 *   timestamp,open,high,low,close,volume,open_interest_usd,funding_rate,liq_long_usd,liq_short_usd,
 *   taker_buy_volume,taker_sell_volume,long_short_ratio
 *
 * `timestamp` is the bar's open time (epoch ms). Columns are found by header name, so
 * their order is free; `volume`, `funding_rate`, the `liq_*` columns and the three last
 * (the model's side evidence, base units and longs / shorts) may be empty or absent. A
 * file with `taker_buy_volume` and `volume` but no `taker_sell_volume` (a venue's kline
 * export) gets the sell side as volume − buy. Realized liquidations are parsed only to validate them: they are never
 * part of a `Bar`, because the model must not see the answer it is evaluated on.
 */

export const BARS_CSV_HEADER = [
  'timestamp',
  'open',
  'high',
  'low',
  'close',
  'volume',
  'open_interest_usd',
  'funding_rate',
  'liq_long_usd',
  'liq_short_usd',
  'taker_buy_volume',
  'taker_sell_volume',
  'long_short_ratio',
] as const;

const REQUIRED = ['timestamp', 'open', 'high', 'low', 'close', 'open_interest_usd'] as const;

/** A malformed bars file: the message names the file and the 1-based line. */
export class BarsCsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'BarsCsvError';
  }
}

function parseNumber(raw: string | undefined, column: string, file: string, line: number, required: boolean): number | undefined {
  const s = (raw ?? '').trim();
  if (s === '') {
    if (required) throw new BarsCsvError(file, line, `column ${column} is empty`);
    return undefined;
  }
  const v = Number(s);
  if (!Number.isFinite(v)) throw new BarsCsvError(file, line, `column ${column} is not a number: "${s}"`);
  return v;
}

/**
 * Parses a bars CSV into bars, oldest first. Throws `BarsCsvError` naming the file and
 * line for a missing column, a non-numeric value, high/low that do not bound open and
 * close, a negative open interest, or timestamps that are not strictly increasing.
 */
export function parseBarsCsv(text: string, file = '<bars>'): Bar[] {
  const lines = text.split(/\r?\n/);
  const headerLine = lines[0]?.trim() ?? '';
  if (headerLine === '') throw new BarsCsvError(file, 1, 'missing header line');
  const header = headerLine.split(',').map((h) => h.trim().toLowerCase());
  const col = new Map(header.map((h, i) => [h, i]));
  const missing = REQUIRED.filter((c) => !col.has(c));
  if (missing.length > 0) throw new BarsCsvError(file, 1, `header lacks column(s) ${missing.join(', ')}`);
  const idx = (name: string): number => col.get(name) ?? -1;

  const bars: Bar[] = [];
  let prevTs = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]?.trim() ?? '';
    if (raw === '') continue;
    const line = i + 1;
    const cells = raw.split(',');
    if (cells.length < header.length) {
      throw new BarsCsvError(file, line, `expected ${header.length} columns, found ${cells.length}`);
    }
    const get = (name: string, required: boolean): number | undefined =>
      idx(name) < 0 ? undefined : parseNumber(cells[idx(name)], name, file, line, required);
    const ts = get('timestamp', true) as number;
    const open = get('open', true) as number;
    const high = get('high', true) as number;
    const low = get('low', true) as number;
    const close = get('close', true) as number;
    const openInterestUsd = get('open_interest_usd', true) as number;
    const volume = get('volume', false);
    const fundingRate = get('funding_rate', false);
    for (const name of ['liq_long_usd', 'liq_short_usd']) get(name, false);
    const takerBuyVolume = get('taker_buy_volume', false);
    let takerSellVolume = get('taker_sell_volume', false);
    const longShortRatio = get('long_short_ratio', false);

    if (!Number.isInteger(ts) || ts <= 0) throw new BarsCsvError(file, line, `timestamp must be epoch milliseconds, got ${ts}`);
    if (ts <= prevTs) throw new BarsCsvError(file, line, `timestamp ${ts} is not after the previous bar's ${prevTs}`);
    if (!(open > 0 && high > 0 && low > 0 && close > 0)) throw new BarsCsvError(file, line, 'prices must be positive');
    if (high < Math.max(open, close) || low > Math.min(open, close)) {
      throw new BarsCsvError(file, line, 'high/low do not bound open and close');
    }
    if (openInterestUsd < 0) throw new BarsCsvError(file, line, 'open_interest_usd must not be negative');
    if (volume !== undefined && volume < 0) throw new BarsCsvError(file, line, 'volume must not be negative');
    if (takerBuyVolume !== undefined && takerBuyVolume < 0) throw new BarsCsvError(file, line, 'taker_buy_volume must not be negative');
    if (takerSellVolume !== undefined && takerSellVolume < 0) throw new BarsCsvError(file, line, 'taker_sell_volume must not be negative');
    if (longShortRatio !== undefined && !(longShortRatio > 0)) throw new BarsCsvError(file, line, 'long_short_ratio must be positive');
    if (takerSellVolume === undefined && takerBuyVolume !== undefined && volume !== undefined && idx('taker_sell_volume') < 0) {
      if (takerBuyVolume > volume * (1 + 1e-9)) throw new BarsCsvError(file, line, 'taker_buy_volume exceeds volume');
      takerSellVolume = Math.max(0, volume - takerBuyVolume);
    }
    prevTs = ts;
    const bar: Bar = { ts, open, high, low, close, openInterestUsd };
    if (volume !== undefined) bar.volume = volume;
    if (fundingRate !== undefined) bar.fundingRate = fundingRate;
    if (takerBuyVolume !== undefined) bar.takerBuyVolume = takerBuyVolume;
    if (takerSellVolume !== undefined) bar.takerSellVolume = takerSellVolume;
    if (longShortRatio !== undefined) bar.longShortRatio = longShortRatio;
    bars.push(bar);
  }
  return bars;
}

const num = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '' : String(v));

/**
 * Formats bars in the full column order; the `liq_*` columns are left empty (sources do not
 * know them). Numbers are written with JavaScript's shortest round-trip form, so
 * `parseBarsCsv(formatBarsCsv(bars))` gives the same bars back.
 */
export function formatBarsCsv(bars: readonly Bar[]): string {
  const rows = bars.map((b) =>
    [
      b.ts,
      b.open,
      b.high,
      b.low,
      b.close,
      num(b.volume),
      b.openInterestUsd,
      num(b.fundingRate),
      '',
      '',
      num(b.takerBuyVolume),
      num(b.takerSellVolume),
      num(b.longShortRatio),
    ].join(','),
  );
  return `${BARS_CSV_HEADER.join(',')}\n${rows.map((r) => `${r}\n`).join('')}`;
}
