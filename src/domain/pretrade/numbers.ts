/** Small numeric helpers of the gate: rounding to steps, clamping, distances. */
import { clamp } from '../../lib/math.js';

/** Distances within this many bps of a boundary count as on it (float tolerance). */
export const BOUNDARY_EPS_BPS = 1e-9;
/**
 * Rounding down to a step tolerates float division noise (0.3 / 0.1 = 2.9999999999999996):
 * a value at most this fraction of a step, and at most STEP_REL_EPS of itself, short of a
 * multiple rounds to that multiple. Never more: the result may not exceed the cap it rounds.
 */
const STEP_EPS = 1e-9;
const STEP_REL_EPS = 1e-12;

/**
 * Rounds down to a multiple of `step`, written with the step's own decimals (0.25 -> 2,
 * 2.5 -> 1, 1e-7 -> 7) so the result is the exact decimal multiple, never above `value`
 * beyond the tolerance above. A step that is not a positive number allows nothing.
 */
export function floorToStep(value: number, step: number): number {
  if (!(value > 0) || !(step > 0)) return 0;
  const q = value / step;
  let n = Math.floor(q + Math.min(STEP_EPS, q * STEP_REL_EPS));
  let r = roundToStepDecimals(n * step, step);
  // Decimal rounding moves n x step by float noise only; if that crossed the tolerance, one step less.
  if (r > value + value * STEP_REL_EPS && n > 0) {
    n -= 1;
    r = roundToStepDecimals(n * step, step);
  }
  return r;
}

/** Rounds up to a multiple of `step` (the smallest multiple at or above `value`, same tolerance). */
export function ceilToStep(value: number, step: number): number {
  if (!(value > 0) || !(step > 0)) return 0;
  const down = floorToStep(value, step);
  return down >= value - value * STEP_REL_EPS ? down : roundToStepDecimals((Math.round(down / step) + 1) * step, step);
}

/** Rounds to the nearest multiple of `step` (prices in messages: to the tick). */
export function roundToStep(value: number, step: number): number {
  if (!Number.isFinite(value) || !(step > 0)) return value;
  return roundToStepDecimals(Math.round(value / step) * step, step);
}

// The last step's decimals: every cap of a check rounds to the same step (one parse per policy, not per call).
let lastStep = Number.NaN;
let lastStepDecimals = 0;

/** toFixed takes at most 100 decimals; a step finer than that is used as the float it is. */
const MAX_STEP_DECIMALS = 100;

/** Decimals of the shortest decimal that reads back as `step` (String(step)): 0.25 -> 2, 1.5e-7 -> 8, 5 -> 0. */
export function stepDecimals(step: number): number {
  const s = String(step);
  const e = s.indexOf('e');
  const mantissa = e === -1 ? s : s.slice(0, e);
  const exponent = e === -1 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const fraction = dot === -1 ? 0 : mantissa.length - dot - 1;
  return Math.max(0, fraction - exponent);
}

function roundToStepDecimals(value: number, step: number): number {
  if (step !== lastStep) {
    lastStepDecimals = stepDecimals(step);
    lastStep = step;
  }
  return lastStepDecimals > MAX_STEP_DECIMALS ? value : Number(value.toFixed(lastStepDecimals));
}

export const r2 = (x: number): number => Math.round(x * 100) / 100;
export const clamp01 = (x: number): number => clamp(x, 0, 1);
export const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
export const finitePositive = (x: unknown): x is number => isFiniteNumber(x) && x > 0;

/** |a - b| in bps of `base`. */
export const bpsApart = (a: number, b: number, base: number): number => (Math.abs(a - b) / base) * 10_000;
