/** Bounding a wait: every timeout race in the service goes through these two. */

/**
 * `p`'s result, or `onTimeout` once `ms` have passed (`p` keeps running; its later result
 * or failure is ignored by this race). The timer never keeps the process alive.
 */
export function within<T, F>(p: Promise<T>, ms: number, onTimeout: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), Math.max(0, ms));
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** `p`'s result, or a rejection "`what` did not answer within `ms` ms". */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const timedOut = Symbol('timed out');
  return within(p, ms, timedOut).then((r) => {
    if (r === timedOut) throw new Error(`${what} did not answer within ${ms} ms`);
    return r as T;
  });
}
