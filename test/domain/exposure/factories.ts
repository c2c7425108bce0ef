import { ExposurePolicySchema, type ExposureLimits } from '../../../src/domain/exposure/policy.js';
import type { ReserveContext, ReserveOrder } from '../../../src/domain/exposure/limits.js';
import { emptyAccount, type AccountState, type ExposureFill } from '../../../src/domain/exposure/types.js';

export const NOW = Date.UTC(2026, 0, 7, 12, 0, 0);

export function buildLimits(overrides: Partial<ExposureLimits> = {}): ExposureLimits {
  return { ...ExposurePolicySchema.parse({}).limits, ...overrides };
}

export function buildAccount(overrides: Partial<AccountState> = {}): AccountState {
  return { ...emptyAccount('acct-1'), ...overrides };
}

let seq = 0;
export function buildOrder(overrides: Partial<ReserveOrder> = {}): ReserveOrder {
  seq += 1;
  return { decisionId: `d-${seq}`, symbol: 'BTCUSDT', side: 'buy', quantity: 1, price: 100_000, reduceOnly: false, quantityStep: 0, ...overrides };
}

export function buildContext(overrides: Partial<ReserveContext> = {}): ReserveContext {
  return {
    now: NOW,
    limits: buildLimits(),
    scale: 1,
    marks: { BTCUSDT: 100_000, ETHUSDT: 4_000 },
    positionsMaxAgeMs: 300_000,
    requireConfirmedPositions: false,
    reservationTtlMs: 3_600_000,
    maxLossWindowMs: 86_400_000,
    ...overrides,
  };
}

export function buildFill(overrides: Partial<ExposureFill> = {}): ExposureFill {
  seq += 1;
  return { fillId: `f-${seq}`, symbol: 'BTCUSDT', side: 'buy', quantity: 1, price: 100_000, executedAt: NOW - 1_000, ...overrides };
}
