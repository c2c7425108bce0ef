/**
 * The figures behind the cascade defaults (docs/model.md, "Cascades"):
 *
 *   npm run eval:cascades -- --bars BARS.csv --book BOOK.csv[.gz] [--every 6] [--warmup-days 7] [--levels 50,all]
 *
 * 1. Forced share: over the scored bars (after the warm-up, price moved that way), realized
 *    liquidations (the bars' liq_* columns) / the notional the model placed in each bar's
 *    swept range (walk-forward, as `npm run eval`).
 * 2. Cascade moves: every `--every` bars after the warm-up, the map is built with the book
 *    (its shape carried to the mark: prices scaled by mark / book mid, USD per level kept),
 *    cut to each of `--levels` per side; quantiles of the move, chains and caps.
 *
 * The book file is `side,price,size` (replay's) or any CSV with `side`, `price` and `size`
 * or `qty_btc` columns (the shared Binance snapshot).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { createHeatmapModel, HeatmapParamsSchema, notionalBetween, type CascadeSide } from '../src/domain/heatmap/index.js';
import type { OrderBook, OrderBookLevel } from '../src/domain/market-data.js';
import { parseBarsWithLiquidations } from './bars-with-liquidations.js';

const { values } = parseArgs({
  options: {
    bars: { type: 'string' },
    book: { type: 'string' },
    every: { type: 'string', default: '6' },
    'warmup-days': { type: 'string', default: '7' },
    levels: { type: 'string', default: '50,all' },
  },
});
if (!values.bars || !values.book) {
  console.error('usage: npm run eval:cascades -- --bars BARS.csv --book BOOK.csv[.gz] [--every 6] [--warmup-days 7] [--levels 50,all]');
  process.exit(2);
}

const read = (path: string): string => {
  const raw = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
};

function parseBook(text: string): { bids: OrderBookLevel[]; asks: OrderBookLevel[] } {
  const [head = '', ...lines] = text.trim().split(/\r?\n/);
  const cols = head.split(',').map((c) => c.trim().toLowerCase());
  const at = (name: string) => cols.indexOf(name);
  const side = at('side');
  const price = at('price');
  const size = at('size') >= 0 ? at('size') : at('qty_btc');
  if (side < 0 || price < 0 || size < 0) throw new Error('book CSV needs side, price and size (or qty_btc) columns');
  const bids: OrderBookLevel[] = [];
  const asks: OrderBookLevel[] = [];
  for (const line of lines) {
    const c = line.split(',');
    const level = { price: Number(c[price]), size: Number(c[size]) };
    if (!(level.price > 0) || !(level.size > 0)) continue;
    if (/^(bid|buy)$/i.test(c[side] ?? '')) bids.push(level);
    else if (/^(ask|sell)$/i.test(c[side] ?? '')) asks.push(level);
  }
  bids.sort((a, b) => b.price - a.price);
  asks.sort((a, b) => a.price - b.price);
  return { bids, asks };
}

const { rows, hasLiq } = parseBarsWithLiquidations(read(values.bars));
const book = parseBook(read(values.book));
const bookMid = ((book.bids[0]?.price ?? NaN) + (book.asks[0]?.price ?? NaN)) / 2;
const levelCuts = values.levels.split(',').map((l) => (l === 'all' ? Infinity : Number(l)));
const every = Number(values.every);
const warmupEnd = (rows[0]?.bar.ts ?? 0) + Number(values['warmup-days']) * 86_400_000;
const barMs = (rows[1]?.bar.ts ?? 0) - (rows[0]?.bar.ts ?? 0);

const model = createHeatmapModel('BTCUSDT', HeatmapParamsSchema.parse({}));
const placed = { long: 0, short: 0 };
const realized = { long: 0, short: 0 };
const moves = new Map<number, number[]>(levelCuts.map((n) => [n, []]));
const chained = new Map<number, number>(levelCuts.map((n) => [n, 0]));
const capped = new Map<number, number>(levelCuts.map((n) => [n, 0]));

for (const [t, r] of rows.entries()) {
  const b = r.bar;
  if (t > 0 && b.ts >= warmupEnd) {
    // What the model (holding bars before this one) placed where this bar traded, against what was liquidated.
    if (b.low < b.open && r.liqLong !== undefined) {
      placed.long += notionalBetween(model, 'long', b.low, b.open);
      realized.long += r.liqLong;
    }
    if (b.high > b.open && r.liqShort !== undefined) {
      placed.short += notionalBetween(model, 'short', b.open, b.high);
      realized.short += r.liqShort;
    }
  }
  model.ingest('agg', [b]);
  if (b.ts < warmupEnd || t % every !== 0) continue;
  const k = b.close / bookMid;
  for (const n of levelCuts) {
    const carried = (levels: OrderBookLevel[]) => levels.slice(0, n).map((l) => ({ price: l.price * k, size: l.size / k }));
    const orderBook: OrderBook = { ts: b.ts, bids: carried(book.bids), asks: carried(book.asks) };
    const h = model.build({ markPrice: b.close, now: b.ts + barMs, orderBook });
    for (const side of [h.cascades?.long, h.cascades?.short]) {
      if (!side) continue;
      moves.get(n)?.push(side.moveBps);
      if (side.chain.length > 1) chained.set(n, (chained.get(n) ?? 0) + 1);
      if (side.capped) capped.set(n, (capped.get(n) ?? 0) + 1);
    }
  }
}

const m = (usd: number): string => `${(usd / 1e6).toFixed(0)}M`;
const pct = (a: number, b: number): string => (b > 0 ? `${((a / b) * 100).toFixed(1)}%` : 'n/a');
if (hasLiq) {
  console.log(
    `forced share (realized / placed in the swept range, scored bars): long ${pct(realized.long, placed.long)} (${m(realized.long)} / ${m(placed.long)}), ` +
      `short ${pct(realized.short, placed.short)} (${m(realized.short)} / ${m(placed.short)}), both ${pct(realized.long + realized.short, placed.long + placed.short)}`,
  );
} else {
  console.log('no liq_* columns: no forced share');
}
const q = (xs: number[], p: number): string => ([...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))] ?? NaN).toFixed(1);
for (const n of levelCuts) {
  const xs = moves.get(n) ?? [];
  console.log(
    `book ${n === Infinity ? 'all' : n} levels a side: ${xs.length} side-reads, moveBps p10/p50/p90/max ${q(xs, 0.1)} / ${q(xs, 0.5)} / ${q(xs, 0.9)} / ${q(xs, 1)}; ` +
      `chained ${chained.get(n) ?? 0}, capped ${capped.get(n) ?? 0}`,
  );
}
const describe = (s: CascadeSide | null | undefined): string =>
  s ? `trigger ${s.triggerDistanceBps.toFixed(1)} bps, move ${s.moveBps.toFixed(1)} bps, reach ${s.reachBps.toFixed(1)} bps, forced ${m(s.forcedUsd)}, chain ${s.chain.length}` : 'none';
const last = rows[rows.length - 1]?.bar;
if (last) {
  const k = last.close / bookMid;
  const orderBook: OrderBook = { ts: last.ts, bids: book.bids.map((l) => ({ price: l.price * k, size: l.size / k })), asks: book.asks.map((l) => ({ price: l.price * k, size: l.size / k })) };
  const h = model.build({ markPrice: last.close, now: last.ts + barMs, orderBook });
  const plain = model.build({ markPrice: last.close, now: last.ts + barMs });
  console.log(`last bar (mark ${last.close}), full book: long ${describe(h.cascades?.long)}; short ${describe(h.cascades?.short)}; risk ${plain.risk.score} -> ${h.risk.score}`);
}
