import { clamp } from '../../lib/math.js';
import type { Bar, Side } from '../market-data.js';
import { liquidationDistance, liquidationPrice, type MaintenanceMargin } from '../margin.js';
import { LiqGrid } from './grid.js';
import { VolumeProfile } from './volume-profile.js';
import { cohortClasses, type HeatmapParams } from './params.js';

const HOUR_MS = 3_600_000;

/** One cohort class (a leverage tier at one assumed position size, see `cohortClasses`) as the book uses it. */
export interface Tier {
  leverage: number;
  /** Normalised share of new notional. */
  weight: number;
  /** 1/L − mmr: the liquidation distance as a fraction of entry. */
  distance: number;
  halfLifeMs: number;
}

export function resolveTiers(p: HeatmapParams, mm: MaintenanceMargin): Tier[] {
  return cohortClasses(p, mm).map((c) => ({
    leverage: c.leverage,
    weight: c.weight,
    distance: liquidationDistance(c.leverage, c.rate),
    halfLifeMs: c.halfLifeHours * HOUR_MS,
  }));
}

/**
 * Evidence in [-1, 1] that new open interest in this bar was long-initiated (positive) or
 * short-initiated (negative): weighted mean of the signals the bar carries.
 */
export function splitEvidence(bar: Bar, p: HeatmapParams): number {
  const s = p.split;
  let num = 0;
  let den = 0;
  const buy = bar.takerBuyVolume;
  const sell = bar.takerSellVolume;
  if (s.takerWeight > 0 && buy !== undefined && sell !== undefined && buy + sell > 0) {
    num += s.takerWeight * ((buy - sell) / (buy + sell));
    den += s.takerWeight;
  }
  const range = bar.high - bar.low;
  if (s.candleWeight > 0 && range > 0) {
    num += s.candleWeight * clamp((bar.close - bar.open) / range, -1, 1);
    den += s.candleWeight;
  }
  if (s.fundingWeight > 0 && bar.fundingRate !== undefined && Number.isFinite(bar.fundingRate)) {
    num += s.fundingWeight * clamp((bar.fundingRate - p.funding.neutral) / p.funding.scale, -1, 1);
    den += s.fundingWeight;
  }
  const ls = bar.longShortRatio;
  if (s.longShortRatioWeight > 0 && ls !== undefined && ls > 0) {
    num += s.longShortRatioWeight * ((ls - 1) / (ls + 1));
    den += s.longShortRatioWeight;
  }
  return den > 0 ? num / den : 0;
}

/**
 * The position book of one symbol on one venue: located cohorts on liquidation grids
 * (one per side and tier) plus the "unlocated" pool of open interest whose entries we do
 * not know (it predates the lookback, or its cohort has aged out). Invariant after every
 * bar: located + unlocated = the venue's latest open interest.
 */
/** Where one bar's new positions enter: the typical price, and the bar's range in logs when it has one to spread over. */
interface BarEntries {
  entry: number;
  close: number;
  lnClose: number;
  range: { lnLow: number; lnHigh: number } | null;
}

export class VenueBook {
  readonly longGrids: LiqGrid[];
  readonly shortGrids: LiqGrid[];
  unlocatedLong = 0;
  unlocatedShort = 0;
  /** Last bar's ts, NaN before the first bar (a plain number field: V8 keeps it unboxed). */
  private lastBarTs = NaN;
  /** Last known funding rate, NaN until a bar carries one. */
  private fundingRate = NaN;
  lastClose = 0;
  lastOi = 0;
  /**
   * What the newest bar's price sweep removed per side, less what realized liquidations
   * inside that bar have since been matched against (see takeRealized), and that bar's
   * length (its spacing from the bar before; NaN after the first bar).
   */
  private sweptLong = 0;
  private sweptShort = 0;
  private lastBarMs = NaN;
  /**
   * Per side, the unlocated pool as the newest bar left it, and the reach intervals realized
   * liquidations have taken pool USD from since (see takeRealized): together, events near one
   * price take no more of the pool than the ladder placed there.
   */
  private poolAtBar: Record<Side, number> = { long: 0, short: 0 };
  private poolTaken: Record<Side, { lo: number; hi: number; usd: number }[]> = { long: [], short: [] };
  /**
   * (ts, OI) samples inside the crowding window, oldest first, in [histHead, histLen).
   * Typed arrays compacted in place: a cold start records a sample per bar, and growing
   * and slicing plain arrays was most of its garbage.
   */
  private histTs = new Float64Array(512);
  private histOi = new Float64Array(512);
  private histHead = 0;
  private histLen = 0;

  /** ln(1 − d) and ln(1 + d) per tier: liquidation price = entry × factor. */
  private readonly lnLongFactor: number[];
  private readonly lnShortFactor: number[];
  /** Each tier's share of new notional. */
  private readonly weights: number[];
  private decayDt = -1;
  private decayKeep: number[] = [];
  private churnDt = -1;
  private churnKeep = 1;
  /** Log-grid step shared by every grid. */
  private readonly step: number;
  /** Recent volume at price, when entries follow it (`entryProfile.share` > 0); null otherwise. */
  private readonly profile: VolumeProfile | null;
  private profileBars = 0;

  constructor(
    private readonly p: HeatmapParams,
    private readonly tiers: readonly Tier[],
  ) {
    this.lnLongFactor = tiers.map((t) => Math.log(1 - t.distance));
    this.lnShortFactor = tiers.map((t) => Math.log(1 + t.distance));
    this.weights = tiers.map((t) => t.weight);
    const step = p.gridBps / 1e4;
    this.step = step;
    this.longGrids = tiers.map(() => new LiqGrid(step));
    this.shortGrids = tiers.map(() => new LiqGrid(step));
    this.profile = p.entryProfile.share > 0 ? new VolumeProfile(p.entryProfile.bucketBps / 1e4) : null;
  }

  get lastTs(): number | undefined {
    return Number.isNaN(this.lastBarTs) ? undefined : this.lastBarTs;
  }

  get lastFunding(): number | undefined {
    return Number.isNaN(this.fundingRate) ? undefined : this.fundingRate;
  }

  locatedUsd(side: Side): number {
    const grids = side === 'long' ? this.longGrids : this.shortGrids;
    let s = 0;
    for (const g of grids) s += g.totalUsd();
    return s;
  }

  totalUsd(side: Side): number {
    return this.locatedUsd(side) + (side === 'long' ? this.unlocatedLong : this.unlocatedShort);
  }

  /** Applies one closed bar. Caller guarantees bar.ts > lastTs. */
  apply(bar: Bar): void {
    const oi = bar.openInterestUsd;
    const oiKnown = Number.isFinite(oi) && oi >= 0;
    if (Number.isNaN(this.lastBarTs)) {
      // Open interest that predates the lookback: keep it, explicitly, as unlocated.
      const t = oiKnown ? oi : 0;
      this.unlocatedLong = t * this.p.legacy.longShare;
      this.unlocatedShort = t - this.unlocatedLong;
    } else {
      const dt = bar.ts - this.lastBarTs;
      this.lastBarMs = dt;
      this.decay(dt);
      // Logs of the bar's range, taken once: the sweep and the new cohorts both use them.
      const lnLow = bar.low > 0 ? Math.log(bar.low) : NaN;
      const lnHigh = bar.high > 0 ? Math.log(bar.high) : NaN;
      if (this.p.sweepGraceBps > 0) this.sweepWithGrace(bar.low, bar.high, this.p.sweepGraceBps / 1e4);
      else this.sweep(bar.low, lnLow, bar.high, lnHigh);
      // Both sides' totals, read once and shared by reconcile and churn while unchanged.
      let longUsd = this.totalUsd('long');
      let shortUsd = this.totalUsd('short');
      let reconciled = 0;
      if (oiKnown) {
        reconciled = this.reconcile(bar, oi, longUsd, shortUsd);
        if (reconciled === 0) {
          longUsd = this.totalUsd('long');
          shortUsd = this.totalUsd('short');
        }
      }
      if (this.profile) this.recordProfile(bar, dt, lnLow, lnHigh);
      const opened = reconciled + this.churn(dt, longUsd, shortUsd);
      if (opened > 0) {
        const pLong = 0.5 + 0.5 * this.p.split.maxTilt * splitEvidence(bar, this.p);
        this.openBoth(bar, lnLow, lnHigh, opened * pLong, opened * (1 - pLong));
      }
    }
    this.lastBarTs = bar.ts;
    if (Number.isFinite(bar.close) && bar.close > 0) this.lastClose = bar.close;
    if (oiKnown) this.lastOi = oi;
    this.poolAtBar = { long: this.unlocatedLong, short: this.unlocatedShort };
    this.poolTaken = { long: [], short: [] };
    if (bar.fundingRate !== undefined && Number.isFinite(bar.fundingRate)) this.fundingRate = bar.fundingRate;
    this.record(bar.ts, this.lastOi);
  }

  /** Adds the bar to the volume profile (its volume, or its duration in hours without one), after decaying what is there. */
  private recordProfile(bar: Bar, dtMs: number, lnLow: number, lnHigh: number): void {
    const profile = this.profile;
    if (!profile) return;
    if (dtMs > 0) profile.decay(Math.pow(0.5, dtMs / (this.p.entryProfile.halfLifeHours * HOUR_MS)));
    const v = bar.volume;
    const weight = v !== undefined && Number.isFinite(v) && v > 0 ? v : dtMs / HOUR_MS;
    profile.add(lnLow, lnHigh, weight);
    if (++this.profileBars % 256 === 0) profile.prune();
  }

  /** Ages located cohorts: decayed notional becomes unlocated (it is still open, we just no longer know where). */
  private decay(dtMs: number): void {
    if (!(dtMs > 0)) return;
    if (dtMs !== this.decayDt) {
      // Bars are usually evenly spaced: compute the per-tier factors once per spacing.
      this.decayDt = dtMs;
      this.decayKeep = this.tiers.map((t) => Math.pow(0.5, dtMs / t.halfLifeMs));
    }
    for (let i = 0; i < this.tiers.length; i++) {
      const f = this.decayKeep[i] ?? 1;
      const lg = this.longGrids[i];
      const sg = this.shortGrids[i];
      if (lg && !lg.isEmpty()) this.unlocatedLong += lg.decay(f);
      if (sg && !sg.isEmpty()) this.unlocatedShort += sg.decay(f);
    }
  }

  /**
   * Turnover: positions close and reopen all the time even when open interest is flat.
   * A share of all positions (located and unlocated alike) closes here and is returned
   * for reopening over this bar's range, so the book follows where trading happens.
   */
  private churn(dtMs: number, longUsd: number, shortUsd: number): number {
    const rate = this.p.turnoverPerHour;
    if (!(rate > 0) || !(dtMs > 0)) return 0;
    if (dtMs !== this.churnDt) {
      // As with decay: one exp per bar spacing, not per bar.
      this.churnDt = dtMs;
      this.churnKeep = Math.exp(-rate * (dtMs / HOUR_MS));
    }
    const keep = this.churnKeep;
    const moved = (longUsd + shortUsd) * (1 - keep);
    if (!(moved > 0)) return 0;
    this.scaleSide('long', keep);
    this.scaleSide('short', keep);
    return moved;
  }

  /**
   * New positions opened during `bar` (longUsd and shortUsd of them), each side spread over
   * the leverage mixture. A position whose liquidation price the bar's close is already
   * beyond cannot have survived the bar, so liquidation prices are capped at the close
   * (longs) or floored at it (shorts): no long mass above, and no short mass below, the
   * last price.
   */
  private openBoth(bar: Bar, lnBarLow: number, lnBarHigh: number, longUsd: number, shortUsd: number): void {
    const entry = (bar.high + bar.low + bar.close) / 3;
    if (!(entry > 0) || !(bar.close > 0)) {
      this.unlocatedLong += longUsd;
      this.unlocatedShort += shortUsd;
      return;
    }
    // Entries: a share at the typical price, the rest spread over the bar's range (when it has one).
    // The logs are the same for both sides: taken once per bar.
    const r = this.p.entryRangeShare;
    const entries: BarEntries = {
      entry,
      close: bar.close,
      lnClose: Math.log(bar.close),
      range: r > 0 && bar.high > bar.low && bar.low > 0 ? { lnLow: lnBarLow, lnHigh: lnBarHigh } : null,
    };
    this.open('long', entries, longUsd);
    this.open('short', entries, shortUsd);
  }

  private open(side: Side, at: BarEntries, usd: number): void {
    const { entry, close, range } = at;
    const long = side === 'long';
    const r = this.p.entryRangeShare;
    const atTypical = range ? 1 - r : 1;
    const grids = long ? this.longGrids : this.shortGrids;
    if (atTypical > 0) {
      for (let i = 0; i < this.tiers.length; i++) {
        const g = grids[i];
        const t = this.tiers[i];
        if (!g || !t) continue;
        const m = usd * t.weight;
        if (!(m > 0)) continue;
        const liq = liquidationPrice(side, entry, t.distance);
        g.add(long ? Math.min(liq, close) : Math.max(liq, close), m * atTypical);
      }
    }
    // Each tier's grid gets its typical-price share (above) before its range share, as
    // before; tiers are separate grids, so doing all of one then all of the other is the same.
    if (range && this.profile) {
      this.openByProfile(this.profile, grids, side, at.lnClose, range, usd);
    } else if (range) {
      LiqGrid.addSpreadsLn(grids, {
        side,
        lnShifts: long ? this.lnLongFactor : this.lnShortFactor,
        weights: this.weights,
        lnLow: range.lnLow,
        lnHigh: range.lnHigh,
        lnCap: at.lnClose,
        usd,
        share: r,
      });
    }
  }

  /** The range entries with a volume profile: `entryProfile.share` of them where recent volume traded, the rest uniformly. */
  private openByProfile(profile: VolumeProfile, grids: readonly LiqGrid[], side: Side, lnCap: number, range: { lnLow: number; lnHigh: number }, usd: number): void {
    const r = this.p.entryRangeShare;
    const spread = { side, lnShifts: side === 'long' ? this.lnLongFactor : this.lnShortFactor, weights: this.weights, lnCap, usd };
    const pieces = profile.pieces(range.lnLow, range.lnHigh);
    const byProfile = pieces.length > 0 ? this.p.entryProfile.share : 0;
    if (byProfile < 1) LiqGrid.addSpreadsLn(grids, { ...spread, lnLow: range.lnLow, lnHigh: range.lnHigh, share: r * (1 - byProfile) });
    for (const piece of pieces) {
      LiqGrid.addSpreadsLn(grids, { ...spread, lnLow: piece.lnLow, lnHigh: piece.lnHigh, share: r * byProfile * piece.share });
    }
  }

  /**
   * Price traded through: every cohort whose liquidation price the bar reached is gone.
   * lnLow and lnHigh are Math.log of low and high. Every grid has the same step, so the
   * swept bucket is located once per side, and its centre (an exp) only when some grid
   * reaches that far: the bucket of `low` (of `high`) lies above every long grid's top
   * (below every short grid's bottom) on most bars.
   */
  private sweep(low: number, lnLow: number, high: number, lnHigh: number): void {
    const step = this.step;
    this.sweptLong = 0;
    this.sweptShort = 0;
    if (Number.isFinite(low) && low > 0) {
      const i = Math.floor(lnLow / step);
      // The first bucket with centre >= low is i or i + 1, found when first needed.
      let from = NaN;
      for (const g of this.longGrids) {
        if (g.isEmpty() || i > g.hiIndex()) continue;
        if (Number.isNaN(from)) from = Math.exp((i + 0.5) * step) < low ? i + 1 : i;
        this.sweptLong += g.sweepFromIndex(from);
      }
    }
    if (Number.isFinite(high) && high > 0) {
      const i = Math.floor(lnHigh / step);
      // The last bucket with centre <= high is i or i − 1.
      let to = NaN;
      for (const g of this.shortGrids) {
        if (g.isEmpty() || i < g.loIndex()) continue;
        if (Number.isNaN(to)) to = Math.exp((i + 0.5) * step) > high ? i - 1 : i;
        this.sweptShort += g.sweepToIndex(to);
      }
    }
  }

  /**
   * The sweep when wicks are only partly believed (`sweepGraceBps` as the fraction g):
   * longs with liquidation at or above low × (1 + g) are cleared; between low and there a
   * share is kept, falling linearly from all at the low to none at low × (1 + g). Shorts
   * mirror it below the high.
   */
  private sweepWithGrace(low: number, high: number, g: number): void {
    const step = this.step;
    if (Number.isFinite(low) && low > 0) {
      const full = low * (1 + g);
      const lnFull = Math.log(full);
      this.sweep(full, lnFull, NaN, NaN);
      const from = LiqGrid.indexOf(low, step);
      const to = LiqGrid.indexOf(full, step);
      for (const grid of this.longGrids) grid.thin(from, to, (c) => (c < low ? 1 : c >= full ? 0 : (full - c) / (full - low)));
    }
    if (Number.isFinite(high) && high > 0) {
      const full = high * (1 - g);
      this.sweep(NaN, NaN, full, Math.log(full));
      const from = LiqGrid.indexOf(full, step);
      const to = LiqGrid.indexOf(high, step);
      for (const grid of this.shortGrids) grid.thin(from, to, (c) => (c > high ? 1 : c <= full ? 0 : (c - full) / (high - full)));
    }
  }

  /**
   * Brings the book to the bar's open interest. Less OI than the book holds means
   * positions closed, taken proportionally within each side, the sides tilted by the
   * bar's direction. More means new positions (including ones that replaced liquidated
   * ones) opened in this bar: returns that notional for the caller to open. longUsd and
   * shortUsd are the sides' current totals.
   */
  private reconcile(bar: Bar, target: number, longUsd: number, shortUsd: number): number {
    const held = longUsd + shortUsd;
    if (target > held) return target - held;
    if (target < held) {
      const close = held - target;
      const range = bar.high - bar.low;
      const dir = range > 0 ? clamp((bar.close - bar.open) / range, -1, 1) : 0;
      // A down bar with falling OI closes more longs; an up bar more shorts.
      const q = 0.5 - 0.5 * this.p.split.closeTilt * dir;
      let fromLong = Math.min(close * q, longUsd);
      let fromShort = close - fromLong;
      if (fromShort > shortUsd) {
        fromShort = shortUsd;
        fromLong = Math.min(close - fromShort, longUsd);
      }
      this.scaleSide('long', longUsd > 0 ? 1 - fromLong / longUsd : 1);
      this.scaleSide('short', shortUsd > 0 ? 1 - fromShort / shortUsd : 1);
    }
    return 0;
  }

  private scaleSide(side: Side, f: number): void {
    const k = Math.max(0, Math.min(1, f));
    if (k === 1) return;
    for (const g of side === 'long' ? this.longGrids : this.shortGrids) g.multiply(k);
    if (side === 'long') this.unlocatedLong *= k;
    else this.unlocatedShort *= k;
  }

  private record(ts: number, oi: number): void {
    if (this.histLen === this.histTs.length) this.makeHistRoom();
    this.histTs[this.histLen] = ts;
    this.histOi[this.histLen] = oi;
    this.histLen++;
    const windowMs = this.p.crowding.windowHours * HOUR_MS;
    // Keep one sample at or before the window start so the change spans the full window.
    while (this.histHead + 1 < this.histLen && (this.histTs[this.histHead + 1] ?? 0) <= ts - windowMs) this.histHead++;
  }

  /** Drops samples before histHead, or doubles the buffers when the live ones fill more than half. */
  private makeHistRoom(): void {
    const live = this.histLen - this.histHead;
    if (live * 2 <= this.histTs.length) {
      this.histTs.copyWithin(0, this.histHead, this.histLen);
      this.histOi.copyWithin(0, this.histHead, this.histLen);
    } else {
      const ts = new Float64Array(this.histTs.length * 2);
      const oi = new Float64Array(this.histTs.length * 2);
      ts.set(this.histTs.subarray(this.histHead, this.histLen));
      oi.set(this.histOi.subarray(this.histHead, this.histLen));
      this.histTs = ts;
      this.histOi = oi;
    }
    this.histHead = 0;
    this.histLen = live;
  }

  /** Open interest at (or just before) `ts`, from the crowding window's history; the oldest kept sample otherwise. */
  oiAt(ts: number): number {
    if (this.histHead >= this.histLen) return this.lastOi;
    let v = this.histOi[this.histHead] ?? this.lastOi;
    for (let i = this.histHead; i < this.histLen; i++) {
      if ((this.histTs[i] ?? Infinity) > ts) break;
      v = this.histOi[i] ?? v;
    }
    return v;
  }

  /**
   * A realized liquidation (`price` is the fill). An event inside the newest bar first
   * counts against what that bar's price sweep removed on its side: those positions are
   * gone already. The rest takes located cohorts of that side whose liquidation price the
   * fill had reached, nearest first: a long liquidates at or above its fill (fills slip past
   * the trigger), so long buckets from the fill's up to `reachBps` above it, a short's from
   * its fill's down to `reachBps` below; cohorts beyond the fill were not reached and stay.
   * All tiers of a bucket give in proportion. What is still left comes off the unlocated
   * pool, at most the part of the pool the ladder places in that same interval (`spread` as
   * in `unlocatedIntervals`), and at most what it placed there at the newest bar less what
   * earlier events since that bar took in an overlapping interval: a burst at one price
   * cannot drain the whole pool (whose loss spreads over every price it covers). Never takes
   * more than the event's USD, nor below zero.
   */
  takeRealized(
    e: { ts: number; side: Side; price: number; usd: number },
    reachBps: number,
    spread: number,
  ): { swept: number; located: number; unlocated: number } {
    const long = e.side === 'long';
    let left = e.usd;
    let swept = 0;
    const inNewestBar = !Number.isNaN(this.lastBarTs) && e.ts >= this.lastBarTs && e.ts < this.lastBarTs + this.lastBarMs;
    if (inNewestBar) {
      swept = Math.min(left, long ? this.sweptLong : this.sweptShort);
      if (long) this.sweptLong -= swept;
      else this.sweptShort -= swept;
      left -= swept;
    }
    const grids = long ? this.longGrids : this.shortGrids;
    const start = LiqGrid.indexOf(e.price, this.step);
    const reach = Math.floor(reachBps / 1e4 / this.step + 1e-9);
    let found = 0;
    for (let d = 0; d <= reach && left - found > 0; d++) {
      const i = long ? start + d : start - d;
      let here = 0;
      for (const g of grids) here += g.at(i);
      if (!(here > 0)) continue;
      const f = Math.min(1, (left - found) / here);
      for (const g of grids) found += g.takeAt(i, g.at(i) * f);
    }
    const located = Math.min(found, left);
    left -= located;
    const pool = long ? this.unlocatedLong : this.unlocatedShort;
    const lo = long ? e.price : e.price * (1 - reachBps / 1e4);
    const hi = long ? e.price * (1 + reachBps / 1e4) : e.price;
    let takenNear = 0;
    for (const t of this.poolTaken[e.side]) if (t.lo <= hi && t.hi >= lo) takenNear += t.usd;
    const there = Math.min(
      unlocatedBetween(e.side, this.lastClose, pool, this.tiers, spread, lo, hi),
      unlocatedBetween(e.side, this.lastClose, this.poolAtBar[e.side], this.tiers, spread, lo, hi) - takenNear,
    );
    const unlocated = Math.max(0, Math.min(left, there, pool));
    if (unlocated > 0) this.poolTaken[e.side].push({ lo, hi, usd: unlocated });
    if (long) this.unlocatedLong -= unlocated;
    else this.unlocatedShort -= unlocated;
    return { swept, located, unlocated };
  }

  /** Located notional with liquidation price in [lo, hi]. */
  locatedBetween(side: Side, lo: number, hi: number): number {
    let s = 0;
    for (const g of side === 'long' ? this.longGrids : this.shortGrids) s += g.between(lo, hi);
    return s;
  }

  bytes(): number {
    let b = 0;
    for (const g of this.longGrids) b += g.bytes();
    for (const g of this.shortGrids) b += g.bytes();
    return b + this.histTs.byteLength + this.histOi.byteLength;
  }
}

/**
 * Where the unlocated pool's liquidations sit, relative to a reference price: entries
 * spread uniformly over ref × (1 ± spread), each tier at its liquidation distance, the
 * part beyond the reference (already swept) folded back onto the rest. Calls fn with
 * each tier's interval and USD; the density is uniform within each interval.
 */
export function unlocatedIntervals(
  side: Side,
  ref: number,
  usd: number,
  tiers: readonly Tier[],
  spread: number,
  fn: (lo: number, hi: number, usd: number) => void,
): void {
  if (!(usd > 0) || !(ref > 0)) return;
  for (const t of tiers) {
    if (t.weight <= 0) continue;
    let lo: number;
    let hi: number;
    if (side === 'long') {
      lo = ref * (1 - spread) * (1 - t.distance);
      hi = Math.min(ref * (1 + spread) * (1 - t.distance), ref);
    } else {
      lo = Math.max(ref * (1 - spread) * (1 + t.distance), ref);
      hi = ref * (1 + spread) * (1 + t.distance);
    }
    if (hi > lo) fn(lo, hi, usd * t.weight);
  }
}

/** Unlocated USD of one side with liquidation price in [lo, hi]. */
export function unlocatedBetween(
  side: Side,
  ref: number,
  usd: number,
  tiers: readonly Tier[],
  spread: number,
  lo: number,
  hi: number,
): number {
  let s = 0;
  unlocatedIntervals(side, ref, usd, tiers, spread, (a, b, m) => {
    const ov = Math.min(b, hi) - Math.max(a, lo);
    if (ov > 0) s += (m * ov) / (b - a);
  });
  return s;
}
