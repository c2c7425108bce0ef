import type { MarketSource } from '../../market/market-source.js';
import type { HeatmapReader } from '../module.js';
import type { PollerStatus } from './poller.js';
import type { SymbolsResponse } from './schemas.js';
import { iso } from '../../lib/time.js';


export interface SymbolsStatusInput {
  instanceId: string;
  symbols: string[];
  maxAgeMs: number;
  /** The configured source's name, shown when there is neither a source nor a map. */
  sourceName: string;
  source: MarketSource | null;
  now: number;
  reader: HeatmapReader;
  /** This replica's own poller status of a symbol, when it has a poller for it. */
  own(symbol: string): PollerStatus | undefined;
  /** The leader's status of a symbol this replica does not poll, as last read from the board. */
  remote(symbol: string): PollerStatus | undefined;
}

/** GET /symbols: per symbol, the map this replica holds and the poller's account of it (its own, or the leader's). */
export function symbolsStatus(i: SymbolsStatusInput): Omit<SymbolsResponse, 'policy'> {
  return {
    instanceId: i.instanceId,
    maxAgeMs: i.maxAgeMs,
    symbols: i.symbols.map((symbol) => {
      const snap = i.reader.get(symbol);
      const own = i.own(symbol);
      // Not polling it ourselves: show the leader's own account when it posted one.
      const remote = own?.role === 'leader' ? undefined : i.remote(symbol);
      const st = remote ? { ...remote, leader: own?.leader ?? remote.leader } : own;
      const ageMs = snap ? Math.max(0, Math.round(i.now - snap.asOf)) : null;
      return {
        symbol,
        source: snap?.source ?? i.source?.name ?? i.sourceName,
        venues: i.source ? i.source.venues(symbol) : (snap?.venues ?? []),
        polling: own?.role === 'leader',
        leader: st?.leader ?? null,
        version: snap?.version ?? null,
        asOf: iso(snap?.asOf),
        ageMs,
        dataAsOf: iso(snap?.dataAsOf),
        stale: ageMs === null || ageMs > i.maxAgeMs,
        lastSuccessAt: iso(st?.lastSuccessAt),
        lastError: st?.lastError ?? null,
        consecutiveFailures: st?.consecutiveFailures ?? 0,
        venueStatus: (st?.venues ?? []).map((v) => ({
          venue: v.venue,
          state: v.state,
          consecutiveFailures: v.consecutiveFailures,
          lastSuccessAt: iso(v.lastSuccessAt),
          lastError: v.lastError,
          retryAt: iso(v.retryAt),
          ...(v.lastBarCloseAt === undefined ? {} : { lastBarCloseAt: iso(v.lastBarCloseAt) }),
          ...(v.contributing === undefined ? {} : { contributing: v.contributing }),
        })),
        // From the map itself, so every replica answers the polling replica's figures.
        modelHealth: snap?.health ? { ...snap.health, healthy: snap.health.status === 'healthy' } : null,
        confidence: snap?.confidence ?? null,
      };
    }),
  };
}
