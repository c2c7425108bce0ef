import { SimMarketSource, type SimSourceOptions } from '../../src/market/sim-source.js';

export const INTERVAL = 3_000;
export const VENUES = ['binanceusdm', 'bybit', 'okx'];

/** A clock tests move by hand. */
export function buildClock(start: number): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** The simulator for BTCUSDT and ETHUSDT on three venues, seed 42, created at `start`. */
export function buildSimAt(start: number, overrides: Partial<SimSourceOptions> = {}): SimMarketSource {
  return new SimMarketSource({
    symbols: ['BTCUSDT', 'ETHUSDT'],
    venues: VENUES,
    barIntervalMs: INTERVAL,
    seed: 42,
    clock: () => start,
    ...overrides,
  });
}
