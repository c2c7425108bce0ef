import type { HeatmapBin } from './types.js';

/**
 * A price grid shared by every time column of the heatmap page: `rows` equal slices of
 * [low, high]. Each ladder bin (centred on its price, `binBps` of `mark` wide) gives its
 * USD to the rows it overlaps, in proportion to the overlap, so maps with different bin
 * widths or marks land on one grid without losing or inventing notional inside it.
 */
export interface PriceGrid {
  low: number;
  high: number;
  rows: number;
}

export function rowOf(grid: PriceGrid, price: number): number {
  return Math.floor(((price - grid.low) / (grid.high - grid.low)) * grid.rows);
}

export function regridLadder(bins: readonly HeatmapBin[], binBps: number, mark: number, grid: PriceGrid): { longUsd: number[]; shortUsd: number[] } {
  const longUsd = new Array<number>(grid.rows).fill(0);
  const shortUsd = new Array<number>(grid.rows).fill(0);
  const rowH = (grid.high - grid.low) / grid.rows;
  const half = (mark * binBps) / 20_000;
  if (!(rowH > 0) || !(half > 0)) return { longUsd, shortUsd };
  for (const b of bins) {
    const a = b.price - half;
    const z = b.price + half;
    if (z <= grid.low || a >= grid.high) continue;
    const first = Math.max(0, Math.floor((a - grid.low) / rowH));
    const last = Math.min(grid.rows - 1, Math.floor((z - grid.low) / rowH));
    for (let r = first; r <= last; r++) {
      const lo = Math.max(a, grid.low + r * rowH);
      const hi = Math.min(z, grid.low + (r + 1) * rowH);
      const share = (hi - lo) / (z - a);
      if (share <= 0) continue;
      longUsd[r]! += b.longUsd * share;
      shortUsd[r]! += b.shortUsd * share;
    }
  }
  return { longUsd, shortUsd };
}
