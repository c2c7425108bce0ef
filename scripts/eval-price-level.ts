/**
 * The price-level part of `npm run eval` (--events): per hour, the ladder built at the
 * hour's open against realized liquidation USD per traded bin, next to trivial rules.
 * Statistics live in src/domain/eval; this file only walks the bars and prints.
 */
import type { Bar, Side } from '../src/domain/market-data.js';
import type { Heatmap } from '../src/domain/heatmap/index.js';
import type { BootstrapOptions } from '../src/domain/eval/bootstrap.js';
import {
  BASELINES,
  bestDistanceRule,
  buildHourBins,
  coveredIntervals,
  scoreHourSide,
  summarisePriceLevel,
  type LiquidationEvent,
  type SideHourScore,
  type SideSummary,
} from '../src/domain/eval/price-level.js';

const HOUR_MS = 3_600_000;
/** Fewer scored hours than this and a bootstrap interval says nothing (one hour gives a point). */
const MIN_HOURS_FOR_TARGET = 5;

export interface PriceLevelOptions {
  events: readonly LiquidationEvent[];
  /** Runs of events with no longer gap count as recorded; bars outside are not scored. */
  gapMs: number;
  /** Score period starts here (epoch ms); hours before it are the fit period. null: one period. */
  split: number | null;
  boot: BootstrapOptions;
}

/** Collects, during the walk-forward, the ladder each recorded hour starts from. */
export class PriceLevelCollector {
  private readonly covered: Array<[number, number]>;
  /** Per variant (the configured ladder first, then e.g. the unsmoothed one): hour start -> ladder built before the hour. */
  readonly ladders = new Map<string, Map<number, Heatmap>>();
  private barMs = 0;
  private lastHour = -1;

  constructor(
    private readonly opts: PriceLevelOptions,
    private readonly variants: ReadonlyArray<{ name: string; build: (bar: Bar) => Heatmap }>,
  ) {
    this.covered = coveredIntervals(
      opts.events.map((e) => e.ts),
      opts.gapMs,
    );
    for (const v of variants) this.ladders.set(v.name, new Map());
  }

  private recorded(ts: number): boolean {
    return this.covered.some(([a, b]) => a < ts + this.barMs && ts <= b);
  }

  /** Call before the model ingests `bar` (the model then holds only earlier bars). */
  beforeIngest(bar: Bar, prev: Bar | undefined): void {
    if (prev && this.barMs === 0) this.barMs = bar.ts - prev.ts;
    const hour = Math.floor(bar.ts / HOUR_MS) * HOUR_MS;
    if (hour === this.lastHour || prev === undefined) return;
    this.lastHour = hour;
    // Recorded anywhere in the hour: a ladder is needed from its first bar.
    if (!this.covered.some(([a, b]) => a < hour + HOUR_MS && hour <= b)) return;
    for (const v of this.variants) this.ladders.get(v.name)?.set(hour, v.build(bar));
  }

  /** Events of the last scores() call that filled outside every traded bin of their hour (dropped). */
  eventsOutside = 0;

  /** Per-hour scores of one variant over the given bars. */
  scores(variant: string, bars: readonly Bar[], side: Side): Array<{ hour: number; score: SideHourScore }> {
    const out: Array<{ hour: number; score: SideHourScore }> = [];
    this.eventsOutside = 0;
    for (const [hour, h] of this.ladders.get(variant) ?? []) {
      const hourBars = bars.filter((b) => b.ts >= hour && b.ts < hour + HOUR_MS && this.recorded(b.ts));
      if (hourBars.length === 0) continue;
      const from = hourBars[0]?.ts ?? hour;
      const to = (hourBars[hourBars.length - 1]?.ts ?? hour) + this.barMs;
      const half = (h.bins.length - 1) / 2;
      const { bins, eventsOutside } = buildHourBins({
        open: h.markPrice,
        binBps: h.binBps,
        ranges: hourBars.map((b) => ({ low: b.low, high: b.high, duration: this.barMs })),
        events: this.opts.events.filter((e) => e.ts >= from && e.ts < to),
        ladderAt: (k) => {
          const b = h.bins[half + k];
          return { long: b?.longUsd ?? 0, short: b?.shortUsd ?? 0 };
        },
      });
      this.eventsOutside += eventsOutside;
      const score = scoreHourSide(bins, side);
      if (score) out.push({ hour, score });
    }
    return out;
  }
}

const f = (x: number): string => (Number.isFinite(x) ? (x >= 0 ? ' ' : '') + x.toFixed(3) : '  n/a');

function printSummary(label: string, s: SideSummary): void {
  console.log(`  ${label}: hours ${s.hours}, ladder mean ${f(s.ladderMean)}, share > 0 ${f(s.shareAboveZero)}`);
  if (s.hours === 0) return;
  for (const name of BASELINES) {
    const v = s.versus[name];
    console.log(
      `    vs ${name.padEnd(16)} baseline ${f(v.baselineMean)}  ladder − baseline ${f(v.diff.mean)}  [${f(v.diff.lo)}, ${f(v.diff.hi)}]  same in ${v.sameHours}/${s.hours} h`,
    );
  }
}

/** Prints the price-level report; returns whether the target (docs/model.md, "Where: the price-level score") is met on the score period. */
export function reportPriceLevel(c: PriceLevelCollector, bars: readonly Bar[], opts: PriceLevelOptions): boolean {
  const level = Math.round(opts.boot.level * 100);
  console.log(
    `\nprice level: per-hour Spearman across traded bins, ladder built at the hour's open;` +
      ` ${level}% hour-block bootstrap (block ${opts.boot.blockLength} h, ${opts.boot.resamples} resamples, seed ${opts.boot.seed})`,
  );
  let met = true;
  const target = [...c.ladders.keys()][0];
  for (const variant of c.ladders.keys()) {
    for (const side of ['long', 'short'] as const) {
      const all = c.scores(variant, bars, side);
      const periods: Array<[string, typeof all]> =
        opts.split === null
          ? [['all', all]]
          : [
              ['fit', all.filter((s) => s.hour < (opts.split ?? 0))],
              ['score', all.filter((s) => s.hour >= (opts.split ?? 0))],
            ];
      console.log(`${variant} ladder, ${side}s (events outside the traded bins, dropped: ${c.eventsOutside})`);
      const summaries = periods.map(([label, s]) => {
        const sum = summarisePriceLevel(
          s.map((x) => x.score),
          opts.boot,
        );
        printSummary(label, sum);
        return sum;
      });
      const fit = summaries[0];
      const scored = summaries[summaries.length - 1];
      if (!fit || !scored) continue;
      const rule = bestDistanceRule(fit);
      const d = scored.versus[rule].diff;
      const enough = scored.hours >= MIN_HOURS_FOR_TARGET;
      const ok = enough && d.mean >= 0.1 && d.lo > 0;
      if (variant === target) met &&= ok;
      console.log(`  best distance rule (on ${periods[0]?.[0]}): ${rule}; on ${periods[periods.length - 1]?.[0]}: ${f(d.mean)} [${f(d.lo)}, ${f(d.hi)}] ${ok ? 'beats it' : 'does NOT beat it'} by >= 0.1 with interval > 0${enough ? '' : ` (only ${scored.hours} scored hours; ${MIN_HOURS_FOR_TARGET} needed)`}`);
    }
  }
  return met;
}
