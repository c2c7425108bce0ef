// PLACEHOLDER until the heatmap-cache/poller work lands: an in-memory store with no polling.
import type { HeatmapModule, ModuleInfra } from '../module.js';
import type { HeatmapSnapshot } from '../../stores/heatmap-store.js';

export function createHeatmapModule(infra: ModuleInfra): HeatmapModule {
  const latest = new Map<string, HeatmapSnapshot>();
  let version = 0;
  return {
    name: 'heatmaps',
    reader: { get: (s) => latest.get(s) },
    store: {
      getLatest: async (s) => latest.get(s) ?? null,
      put: async (snap) => {
        version += 1;
        latest.set(snap.symbol, { ...snap, version });
        return { accepted: true, version };
      },
      getAt: async () => null,
      subscribe: async () => async () => {},
      ping: async () => {},
      close: async () => {},
    },
    publish: async (snap) => {
      version += 1;
      const full = { ...snap, version };
      latest.set(snap.symbol, full);
      return full;
    },
    registerRoutes: () => {},
    start: async () => {},
    stop: async () => {},
    readiness: async () =>
      infra.config.market.symbols.map((s) => {
        const snap = latest.get(s);
        const fresh = snap !== undefined && infra.clock() - snap.asOf <= infra.config.market.heatmapMaxAgeMs;
        return { name: `heatmap:${s}`, ok: fresh, ...(fresh ? {} : { detail: snap ? 'stale' : 'no heatmap yet' }) };
      }),
  };
}
