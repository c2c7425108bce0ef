/**
 * Builds an eval bars CSV (the project's bars format) from Binance 5-minute candles, for
 * scoring the model on per-event liquidations (docs/model.md, "Where: the price-level score").
 *
 *   npm run eval:binance-bars -- --candles CANDLES.csv.gz --events EVENTS.csv.gz
 *     [--funding FUNDING.csv.gz] [--from ISO] [--to ISO] [--oi constant|volume] [--gap-min 45] --out BARS.csv
 *
 * No open interest is published for those days, so `open_interest_usd` is a proxy:
 * `constant` (1e10: OI never changes, positions move only by turnover) or `volume`
 * (trailing 24 h of notional volume: more trading reads as more positions). The
 * `liq_*` columns are the events summed per bar, left empty where the event stream was
 * not recording (gaps longer than --gap-min), so those bars are not scored.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { parseLiquidationEventsCsv } from '../src/domain/eval/events-csv.js';
import { coveredIntervals } from '../src/domain/eval/price-level.js';

const readText = (f: string): string => (f.endsWith('.gz') ? gunzipSync(readFileSync(f)).toString('utf8') : readFileSync(f, 'utf8'));

const { values } = parseArgs({
  options: {
    candles: { type: 'string' },
    events: { type: 'string' },
    funding: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    oi: { type: 'string', default: 'constant' },
    'gap-min': { type: 'string', default: '45' },
    out: { type: 'string' },
  },
});
if (!values.candles || !values.events || !values.out || (values.oi !== 'constant' && values.oi !== 'volume')) {
  console.error('usage: npm run eval:binance-bars -- --candles FILE --events FILE [--funding FILE] [--from ISO] [--to ISO] [--oi constant|volume] --out BARS.csv');
  process.exit(2);
}

const BAR_MS = 300_000;
const events = parseLiquidationEventsCsv(readText(values.events));
const covered = coveredIntervals(
  events.map((e) => e.ts),
  Number(values['gap-min']) * 60_000,
);
const liq = new Map<number, { long: number; short: number }>();
for (const e of events) {
  const k = Math.floor(e.ts / BAR_MS) * BAR_MS;
  const v = liq.get(k) ?? { long: 0, short: 0 };
  v[e.side] += e.usd;
  liq.set(k, v);
}
const lastEvent = events[events.length - 1]?.ts ?? 0;
const from = values.from ? Date.parse(values.from) : (events[0]?.ts ?? 0) - 7 * 86_400_000;
const to = values.to ? Date.parse(values.to) : lastEvent;

// Funding settles every 8 h; the 1 h file is zero between settlements, so carry the last one.
const funding: Array<[number, number]> = [];
if (values.funding) {
  for (const line of readText(values.funding).split(/\r?\n/).slice(1)) {
    const [t, , r] = line.split(',');
    if (t && r && Number(r) !== 0) funding.push([Number(t), Number(r)]);
  }
}
let fi = 0;
let rate: number | undefined;

const rows: string[] = ['timestamp,open,high,low,close,volume,open_interest_usd,funding_rate,liq_long_usd,liq_short_usd'];
const dayVolume: number[] = [];
let daySum = 0;
for (const line of readText(values.candles).split(/\r?\n/).slice(1)) {
  const c = line.split(',');
  const t = Number(c[0]);
  if (!Number.isFinite(t) || c.length < 7) continue;
  const [open, high, low, close, volume] = [c[2], c[3], c[4], c[5], c[6]].map(Number) as [number, number, number, number, number];
  const notional = volume * close;
  dayVolume.push(notional);
  daySum += notional;
  if (dayVolume.length > 288) daySum -= dayVolume.shift() ?? 0;
  while (fi < funding.length && (funding[fi]?.[0] ?? Infinity) <= t) rate = funding[fi++]?.[1];
  if (t < from || t > to) continue;
  const recording = covered.some(([a, b]) => a < t + BAR_MS && t <= b);
  const l = liq.get(t) ?? { long: 0, short: 0 };
  const oi = values.oi === 'constant' ? 1e10 : daySum;
  rows.push(
    [t, open, high, low, close, volume, oi.toFixed(0), rate ?? '', recording ? l.long.toFixed(2) : '', recording ? l.short.toFixed(2) : ''].join(','),
  );
}
writeFileSync(values.out, rows.join('\n') + '\n');
console.log(`${rows.length - 1} bars -> ${values.out}; events ${events.length}, recorded intervals ${covered.length}`);
