import { describe, expect, it } from 'vitest';
import { clamp, median } from '../../src/lib/math.js';
import { iso } from '../../src/lib/time.js';
import { deepMerge, stableStringify } from '../../src/lib/json.js';

describe('median', () => {
  it('when the count is odd, then it is the middle value; when even, the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('when there are no values, then it is null', () => {
    expect(median([])).toBeNull();
  });
});

describe('clamp', () => {
  it('when the value is outside the range, then the nearer bound is returned', () => {
    expect(clamp(-2, -1, 1)).toBe(-1);
    expect(clamp(2, -1, 1)).toBe(1);
    expect(clamp(0.5, -1, 1)).toBe(0.5);
  });
});

describe('iso', () => {
  it('when given epoch ms, then the UTC ISO string; when given null, then null', () => {
    expect(iso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(iso(null)).toBeNull();
  });
});

describe('JSON helpers', () => {
  it('when keys come in a different order, then stableStringify gives the same text', () => {
    expect(stableStringify({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: null } })).toBe(stableStringify({ a: { c: null, d: [2, { x: 0, y: 1 }] }, b: 1 }));
  });

  it('when merging, then nested objects merge and arrays and scalars replace', () => {
    expect(deepMerge({ a: { x: 1, y: 2 }, l: [1, 2], s: 1 }, { a: { y: 3 }, l: [9], s: 2 })).toEqual({ a: { x: 1, y: 3 }, l: [9], s: 2 });
  });
});
