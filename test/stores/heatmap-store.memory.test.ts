import { createMemoryHeatmapStore } from '../../src/stores/heatmap-store.memory.js';
import { CONTRACT_HISTORY, heatmapStoreContract } from './heatmap-store.contract.js';

heatmapStoreContract('memory', async () => {
  const store = createMemoryHeatmapStore(CONTRACT_HISTORY);
  return { store, cleanup: () => store.close() };
});
