import { createMemoryExposureStore } from '../../src/stores/exposure-store.memory.js';
import { exposureStoreContract } from './exposure-store.contract.js';

exposureStoreContract('memory', async () => ({ store: createMemoryExposureStore({ fillRetentionMs: 7 * 86_400_000 }), cleanup: async () => {} }));
