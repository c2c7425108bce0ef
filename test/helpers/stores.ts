import type { TradingStateStore } from '../../src/stores/trading-state-store.js';

/**
 * Store wrappers for tests that build the real app with some stores replaced: they let a
 * test see, from the store's side, what the app did with it, and make the app act now
 * where it would otherwise act on a timer.
 */

/** Runs `f` after the microtasks queued so far (what the caller does right after an await settled). */
const afterPending = (f: () => void) => setImmediate(f);

/**
 * `store` with a way to wait until the app has made `n` more calls of one method and each
 * has settled (resolved or rejected) and been acted on.
 */
export function watched<T extends object>(store: T): { store: T; calls(method: keyof T & string, n?: number): Promise<void> } {
  const settled = new Map<string, number>();
  let waiters: { method: string; target: number; resolve: () => void }[] = [];
  const done = (method: string) => {
    const count = (settled.get(method) ?? 0) + 1;
    settled.set(method, count);
    const ready = waiters.filter((w) => w.method === method && w.target <= count);
    waiters = waiters.filter((w) => !ready.includes(w));
    for (const w of ready) afterPending(w.resolve);
  };
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.finally(() => done(prop));
      };
    },
  });
  return {
    store: proxy,
    calls: (method, n = 1) => new Promise<void>((resolve) => waiters.push({ method, target: (settled.get(method) ?? 0) + n, resolve })),
  };
}

/**
 * A trading-state store announcing its changes like a shared one (the app subscribes to it
 * and does not trust a copy it could not reload for long). `reload()` announces a change
 * and resolves once the app's reload it causes has finished, whether its read succeeded or not.
 */
export function reloadable(inner: TradingStateStore): TradingStateStore & { reload(): Promise<void> } {
  const listeners = new Set<() => void>();
  let started = 0;
  let waiters: { from: number; resolve: () => void }[] = [];
  const store: TradingStateStore = {
    shared: true,
    load: async () => {
      const n = started++;
      try {
        return await inner.load();
      } finally {
        const ready = waiters.filter((w) => n >= w.from);
        waiters = waiters.filter((w) => !ready.includes(w));
        for (const w of ready) afterPending(w.resolve);
      }
    },
    set: (symbol, entry) => inner.set(symbol, entry),
    acknowledge: (replica, version) => inner.acknowledge(replica, version),
    acknowledgements: (liveMs) => inner.acknowledgements(liveMs),
    subscribe: async (listener) => {
      listeners.add(listener);
      const off = await inner.subscribe(listener);
      return async () => {
        listeners.delete(listener);
        await off();
      };
    },
  };
  return Object.assign(store, {
    reload: async () => {
      if (listeners.size === 0) throw new Error('the app has not subscribed to the trading-state store');
      const loaded = new Promise<void>((resolve) => waiters.push({ from: started, resolve }));
      for (const l of listeners) l();
      await loaded;
    },
  });
}
