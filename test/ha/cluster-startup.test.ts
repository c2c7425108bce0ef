import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/infra.js';
import { createLogger } from '../../src/logger.js';
import { startSlotlessClusterNode } from '../helpers/redis-topologies.js';

/*
 * connectRedis on a Cluster waits for the first slot-map refresh. A seed node that answers
 * but has no slot map (a node still joining, or never joined) would hold the start-up for
 * ever; the connection is bounded and fails with a message naming the cause.
 */

let slotless: Awaited<ReturnType<typeof startSlotlessClusterNode>>;
beforeAll(async () => {
  slotless = await startSlotlessClusterNode();
}, 30_000);
afterAll(async () => {
  await slotless?.stop();
});

describe('connecting to a Redis Cluster at start-up', () => {
  it('when the seed node never gives a slot map, then the connection fails within the start-up bound with a clear error', async () => {
    const connecting = connectRedis({ nodes: [slotless.node] }, createLogger('silent'), undefined, { startupTimeoutMs: 1_000 });
    await expect(connecting).rejects.toThrow(
      `cannot connect to Redis at cluster 127.0.0.1:${slotless.node.port}: no slot map from the cluster within 1000 ms`,
    );
  });
});
