import { describe, expect, it } from 'vitest';
import { accountPnl, applyFill, applyFillToPosition, reconcile } from '../../../src/domain/exposure/positions.js';
import { NOW, buildAccount, buildFill } from './factories.js';

describe('positions from fills', () => {
  it('when a long adds at a higher price, then the entry moves to the weighted mean', () => {
    const { position } = applyFillToPosition({ quantity: 1, entryPrice: 100 }, buildFill({ quantity: 3, price: 200 }));
    expect(position).toEqual({ quantity: 4, entryPrice: 175 });
  });

  it('when a sell closes part of a long, then the closed part is realized less the fee and the entry stays', () => {
    const out = applyFillToPosition({ quantity: 2, entryPrice: 100 }, buildFill({ side: 'sell', quantity: 1, price: 110, fee: 1 }));
    expect(out).toEqual({ position: { quantity: 1, entryPrice: 100 }, realizedUsd: 9 });
  });

  it('when a sell crosses zero, then the long is realized and the rest opens short at the fill price', () => {
    const out = applyFillToPosition({ quantity: 1, entryPrice: 100 }, buildFill({ side: 'sell', quantity: 3, price: 90 }));
    expect(out).toEqual({ position: { quantity: -2, entryPrice: 90 }, realizedUsd: -10 });
  });

  it('when a fill names a decision, then it consumes that reservation and removes it once used up', () => {
    const state = buildAccount({ reservations: [{ decisionId: 'd1', symbol: 'BTCUSDT', side: 'buy', reduceOnly: false, quantity: 2, price: 1, expiresAt: NOW + 1 }] });
    expect(applyFill(state, buildFill({ decisionId: 'd1', quantity: 1.5 }))).toEqual({ reservationFound: true });
    expect(state.reservations[0]?.quantity).toBe(0.5);
    applyFill(state, buildFill({ decisionId: 'd1', quantity: 0.5 }));
    expect(state.reservations).toEqual([]);
    expect(applyFill(state, buildFill({ decisionId: 'unknown' }))).toEqual({ reservationFound: false });
  });

  it('realized PnL plus unrealized at the mark; null when a held symbol has no mark', () => {
    const state = buildAccount();
    applyFill(state, buildFill({ quantity: 2, price: 100 }));
    applyFill(state, buildFill({ side: 'sell', quantity: 1, price: 90 }));
    expect(accountPnl(state, { BTCUSDT: 120 }, NOW, 86_400_000)).toBe(-10 + 20);
    expect(accountPnl(state, {}, NOW, 86_400_000)).toBeNull();
  });
});

describe('reconciliation', () => {
  it('when a snapshot at asOf arrives, then it replaces the positions and fills after asOf are applied on top', () => {
    const state = buildAccount({ positions: { BTCUSDT: { quantity: 5, entryPrice: 1 } } });
    const before = buildFill({ quantity: 1, executedAt: NOW - 10_000 });
    const after = buildFill({ quantity: 2, price: 100_000, executedAt: NOW - 1_000 });
    reconcile(state, NOW - 5_000, [{ symbol: 'BTCUSDT', quantity: 1, entryPrice: 100_000 }], [before, after]);
    expect(state.positions.BTCUSDT).toEqual({ quantity: 3, entryPrice: 100_000 });
    expect(state.reconciledAt).toBe(NOW - 5_000);
  });

  it('when a fill older than the last snapshot is reported late, then the position stays as the snapshot says', () => {
    const state = buildAccount();
    reconcile(state, NOW - 5_000, [{ symbol: 'BTCUSDT', quantity: 1, entryPrice: 100 }], []);
    applyFill(state, buildFill({ quantity: 1, executedAt: NOW - 6_000 }));
    expect(state.positions.BTCUSDT?.quantity).toBe(1);
  });
});
