// PLACEHOLDER until the pre-trade service work lands.
import type { HeatmapReader, ModuleInfra, PretradeModule } from '../module.js';

export function createPretradeModule(_infra: ModuleInfra, _heatmaps: HeatmapReader): PretradeModule {
  return {
    name: 'pretrade',
    registerRoutes: () => {},
    start: async () => {},
    stop: async () => {},
    readiness: async () => [],
  };
}
