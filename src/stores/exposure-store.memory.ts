import { reserve } from '../domain/exposure/limits.js';
import { applyFill, reconcile } from '../domain/exposure/positions.js';
import { emptyAccount, type AccountState, type ExposureFill } from '../domain/exposure/types.js';
import { canonicalFill, type ExposureStore } from './exposure-store.js';

interface Account {
  state: AccountState;
  /** fillId -> canonical body and the fill. */
  fills: Map<string, { canonical: string; fill: ExposureFill }>;
}

/** One process's exposure: every operation runs to completion on the event loop, so each is atomic. */
export function createMemoryExposureStore(opts: { fillRetentionMs: number }): ExposureStore {
  const accounts = new Map<string, Account>();
  const known = new Set<string>();
  const account = (id: string): Account => {
    let a = accounts.get(id);
    if (!a) {
      a = { state: emptyAccount(id), fills: new Map() };
      accounts.set(id, a);
    }
    return a;
  };
  return {
    get: async (id) => {
      const a = accounts.get(id);
      return a ? structuredClone(a.state) : null;
    },
    reserve: async (id, orders, ctx) => {
      const a = account(id);
      if (orders.length > 0) known.add(id);
      return orders.map((o) => reserve(a.state, o, ctx));
    },
    applyFill: async (id, fill, now) => {
      const a = account(id);
      const canonical = canonicalFill(fill);
      const prior = a.fills.get(fill.fillId);
      if (prior) return { status: prior.canonical === canonical ? 'duplicate' : 'conflict' };
      for (const [k, v] of a.fills) if (v.fill.executedAt < now - opts.fillRetentionMs) a.fills.delete(k);
      a.fills.set(fill.fillId, { canonical, fill });
      known.add(id);
      return { status: 'applied', ...applyFill(a.state, fill) };
    },
    reconcile: async (id, asOf, positions) => {
      const a = account(id);
      if (a.state.reconciledAt !== null && asOf < a.state.reconciledAt) return { status: 'stale', reconciledAt: a.state.reconciledAt };
      const later = [...a.fills.values()].map((f) => f.fill).filter((f) => f.executedAt > asOf);
      reconcile(a.state, asOf, positions, later);
      known.add(id);
      return { status: 'applied', replayedFills: later.length };
    },
    release: async (id, decisionId) => {
      const a = accounts.get(id);
      if (!a) return false;
      const before = a.state.reservations.length;
      a.state.reservations = a.state.reservations.filter((r) => r.decisionId !== decisionId);
      return a.state.reservations.length < before;
    },
    resetReducing: async (id) => {
      const a = accounts.get(id);
      if (!a?.state.reducing) return false;
      a.state.reducing = null;
      return true;
    },
    knownAccounts: async () => [...known].sort(),
  };
}
