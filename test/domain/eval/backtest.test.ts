import { describe, expect, it } from 'vitest';
import { buildMaintenanceMargin } from '../pretrade/factories.js';
import {
  cvar,
  impactBps,
  maxDrawdown,
  runBacktest,
  simulateTrade,
  type BacktestBar,
  type FlowConfig,
  type Gate,
} from '../../../src/domain/eval/backtest.js';

function buildBar(overrides: Partial<BacktestBar> = {}): BacktestBar {
  return { ts: 0, open: 100, high: 100, low: 100, close: 100, liqLongUsd: 0, liqShortUsd: 0, ...overrides };
}

/** A flat series of `n` bars at 100 with the given overrides by index. */
function buildBars(n: number, at: Record<number, Partial<BacktestBar>> = {}): BacktestBar[] {
  return Array.from({ length: n }, (_, i) => buildBar({ ts: i * 60_000, ...at[i] }));
}

function buildFlow(overrides: Partial<FlowConfig> = {}): FlowConfig {
  return {
    everyBars: 2,
    holdBars: 2,
    lookbackBars: 1,
    notionalUsd: 1_000,
    leverage: 10,
    maintenanceMargin: buildMaintenanceMargin(0),
    book: { halfSpreadBps: 0, depthUsdPerBps: 1e12 },
    cvarShare: 0.5,
    ...overrides,
  };
}

const approveAll: Gate = (_i, _side, usd) => ({ approvedNotionalUsd: usd, reasons: [] });

describe('impactBps', () => {
  it('when an order walks linear depth, then it pays half the spread plus usd / (2 × depth)', () => {
    expect(impactBps({ halfSpreadBps: 1, depthUsdPerBps: 100 }, 400, 0)).toBe(3);
  });

  it('when forced liquidations hit the same side in the bar, then the walk cost grows by forced / (10 bps of depth)', () => {
    expect(impactBps({ halfSpreadBps: 1, depthUsdPerBps: 100 }, 400, 1_000)).toBe(5);
    expect(impactBps({ halfSpreadBps: 1, depthUsdPerBps: 100 }, 0, 1_000)).toBe(0);
  });
});

describe('simulateTrade', () => {
  it('when price rises 5% over the hold, then a long earns 5% of its notional', () => {
    const bars = buildBars(3, { 1: { open: 100, close: 102, high: 102 }, 2: { open: 102, close: 105, high: 105 } });
    const t = simulateTrade(bars, 1, 'long', 1_000, buildFlow());
    expect(t?.liquidated).toBe(false);
    expect(t?.pnlUsd).toBeCloseTo(50, 9);
  });

  it('when a bar trades through the own liquidation price, then the whole margin is lost', () => {
    // 10x, no maintenance margin: a long from 100 liquidates at 90.
    const bars = buildBars(3, { 1: { low: 89.9 }, 2: { close: 120, high: 120 } });
    expect(simulateTrade(bars, 1, 'long', 1_000, buildFlow())).toMatchObject({ liquidated: true, pnlUsd: -100 });
    expect(simulateTrade(bars, 1, 'short', 1_000, buildFlow())?.liquidated).toBe(true);
  });

  it('when the book is thin, then entry and exit slippage are charged against the PnL', () => {
    const bars = buildBars(3);
    const t = simulateTrade(bars, 1, 'long', 1_000, buildFlow({ book: { halfSpreadBps: 5, depthUsdPerBps: 1e12 } }));
    expect(t?.slippageUsd).toBeCloseTo(1, 6);
    expect(t?.pnlUsd).toBeCloseTo(-1, 6);
  });
});

describe('cvar and maxDrawdown', () => {
  it('when asked for the worst quarter of eight trades, then it averages the two worst', () => {
    expect(cvar([5, -10, 3, -2, 0, 7, -4, 1], 0.25)).toBe(-7);
  });

  it('when equity rises, falls and recovers, then the drawdown is the deepest fall from a peak', () => {
    expect(maxDrawdown([10, -4, -3, 5, -9, 20])).toBe(11);
    expect(maxDrawdown([1, 2])).toBe(0);
  });
});

describe('runBacktest', () => {
  // Orders after bars 1 and 3 (lookback 1): the first, long, opens at bar 2 and is liquidated
  // there; the second, short (99 < 100), opens at bar 4's 100 and exits at bar 5's 98: +20.
  const bars = buildBars(6, { 1: { close: 101, high: 101 }, 2: { low: 80 }, 3: { close: 99 }, 5: { close: 98, low: 98 } });

  it('when the gate approves everything, then the gated run equals the ungated run', () => {
    const r = runBacktest(bars, buildFlow(), approveAll);
    expect(r.gated).toEqual(r.ungated);
    expect(r.ungated.liquidated).toBe(1);
    expect(r.refused).toMatchObject({ rejected: 0, resized: 0, costUsd: 0 });
  });

  it('when the gate rejects the order that was liquidated, then the gated run avoids the loss and the refusal is a saving', () => {
    const gate: Gate = (i, _side, usd) => (i === 1 ? { approvedNotionalUsd: 0, reasons: ['NO_TRADE_BUFFER'] } : { approvedNotionalUsd: usd, reasons: [] });
    const r = runBacktest(bars, buildFlow(), gate);
    expect(r.ungated.pnlUsd).toBeCloseTo(-100 + 20, 9);
    expect(r.gated.liquidated).toBe(0);
    expect(r.gated.pnlUsd).toBeCloseTo(20, 9);
    expect(r.gated.cvarUsd).toBeGreaterThan(r.ungated.cvarUsd);
    expect(r.refused).toEqual({ rejected: 1, resized: 0, costUsd: -100, liquidationsAvoided: 1, reasons: { NO_TRADE_BUFFER: 1 } });
  });

  it('when the gate halves an order, then it counts as resized and half its ungated PnL is the refused cost', () => {
    const gate: Gate = (i, _side, usd) => ({ approvedNotionalUsd: i === 3 ? usd / 2 : usd, reasons: i === 3 ? ['SLIPPAGE_LIMIT'] : [] });
    const r = runBacktest(bars, buildFlow(), gate);
    expect(r.refused.resized).toBe(1);
    expect(r.refused.costUsd).toBeCloseTo(10, 9);
    expect(r.gated.pnlUsd).toBeCloseTo(-100 + 10, 9);
    expect(r.gated.notionalUsd).toBe(1_500);
  });

  it('when the hold is longer than the interval, then it refuses to run (positions would overlap)', () => {
    expect(() => runBacktest(bars, buildFlow({ holdBars: 3 }), approveAll)).toThrow(RangeError);
  });
});
