import { describe, expect, it } from 'vitest';
import { regridLadder, rowOf } from '../../../src/domain/heatmap/time-grid.js';

const bin = (price: number, longUsd: number, shortUsd = 0) => ({ price, longUsd, shortUsd, probability: 0 });

describe('regridding a ladder onto the page grid', () => {
  const grid = { low: 99_000, high: 101_000, rows: 20 }; // 100 per row

  it('when a bin sits inside one row, then that row gets all of its notional', () => {
    const { longUsd, shortUsd } = regridLadder([bin(99_050, 1_000, 400)], 5, 100_000, grid); // 99,025..99,075
    expect(longUsd[0]).toBe(1_000);
    expect(shortUsd[0]).toBe(400);
    expect(longUsd.slice(1).every((x) => x === 0)).toBe(true);
  });

  it('when a bin straddles two rows, then its notional is split by overlap and none is lost', () => {
    const { longUsd } = regridLadder([bin(99_100, 1_000)], 10, 100_000, grid); // 99,050..99,150
    expect(longUsd[0]).toBeCloseTo(500, 9);
    expect(longUsd[1]).toBeCloseTo(500, 9);
    expect(longUsd.reduce((a, b) => a + b, 0)).toBeCloseTo(1_000, 9);
  });

  it('when a bin lies outside the grid, then it is left out; a bin over the edge keeps only its inside part', () => {
    const { longUsd } = regridLadder([bin(98_000, 5_000), bin(101_000, 1_000)], 10, 100_000, grid); // 100,950..101,050
    expect(longUsd.reduce((a, b) => a + b, 0)).toBeCloseTo(500, 9);
    expect(longUsd[19]).toBeCloseTo(500, 9);
  });

  it('when a price is asked for, then rowOf names its row', () => {
    expect(rowOf(grid, 99_000)).toBe(0);
    expect(rowOf(grid, 100_050)).toBe(10);
  });
});
