import { afterAll, afterEach, beforeAll } from 'vitest';
import { buildTestApp, type TestApp, type TestAppOptions } from './app.js';

/**
 * Within a describe: one real app for the whole block, built before its first test (`then`
 * runs on it once built, e.g. to listen on a port) and closed after its last. Returns the
 * app's getter: the app exists once the block's tests run.
 */
export function appForSuite(opts: TestAppOptions, then?: (t: TestApp) => Promise<unknown>): () => TestApp {
  let built: TestApp | undefined;
  beforeAll(async () => {
    built = await buildTestApp(opts);
    await then?.(built);
  });
  afterAll(async () => {
    await built?.close();
  });
  return () => {
    if (!built) throw new Error('the suite app is built in beforeAll: use it from a hook or a test');
    return built;
  };
}

/**
 * Within a describe: each test builds its own app (or apps) with the returned function, and
 * every app a test built is closed after it.
 */
export function appPerTest(): (opts?: TestAppOptions) => Promise<TestApp> {
  const built: TestApp[] = [];
  afterEach(async () => {
    for (const t of built.splice(0)) await t.close();
  });
  return async (opts) => {
    const t = await buildTestApp(opts);
    built.push(t);
    return t;
  };
}
