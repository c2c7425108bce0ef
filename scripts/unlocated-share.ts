/**
 * How much of the book the model cannot locate (heatmap.unlocatedUsd / its total), as
 * history accumulates: the "located" part of a map's confidence (docs/model.md, "Live
 * health and confidence").
 *
 *   npx tsx scripts/unlocated-share.ts BARS.csv[.gz]
 *
 * Default model parameters, one venue; prints the share after 1, 6, 24 and 72 hours, then
 * its spread over every 6th bar after three days.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createHeatmapModel, HeatmapParamsSchema, type Heatmap } from '../src/domain/heatmap/index.js';
import { parseBarsCsv } from '../src/market/bars-csv.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx scripts/unlocated-share.ts BARS.csv[.gz]');
  process.exit(2);
}
const text = file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8');
const bars = parseBarsCsv(text, file);
const model = createHeatmapModel('X', HeatmapParamsSchema.parse({}));
const share = (h: Heatmap): number => (h.unlocatedUsd ?? 0) / (h.totalLongUsd + h.totalShortUsd);
const t0 = bars[0]?.ts ?? 0;
const marks = [1, 6, 24, 72];
const later: number[] = [];
bars.forEach((b, i) => {
  model.ingest('v', [b]);
  const hours = (b.ts - t0) / 3_600_000;
  const built = () => model.build({ markPrice: b.close, now: b.ts });
  if (marks.length > 0 && hours >= (marks[0] ?? Infinity)) console.log(`after ${marks.shift()} h: unlocated share ${share(built()).toFixed(3)}`);
  if (hours >= 72 && i % 6 === 0) later.push(share(built()));
});
later.sort((a, b) => a - b);
const q = (p: number): string => (later[Math.floor(p * (later.length - 1))] ?? NaN).toFixed(3);
console.log(`after 3 days, every 6th bar (${later.length}): p5 ${q(0.05)} p50 ${q(0.5)} p95 ${q(0.95)} max ${q(1)}`);
