import { describe, expect, it } from 'vitest';
import { within, withTimeout } from '../../src/lib/async.js';

const never = new Promise<never>(() => undefined);

describe('within', () => {
  it('when the promise settles first, then its result is returned', async () => {
    await expect(within(Promise.resolve(7), 1_000, 'late')).resolves.toBe(7);
  });

  it('when the promise rejects first, then the rejection passes through', async () => {
    await expect(within(Promise.reject(new Error('boom')), 1_000, 'late')).rejects.toThrow('boom');
  });

  it('when the promise does not settle in time, then the fallback is returned', async () => {
    await expect(within(never, 1, 'late')).resolves.toBe('late');
  });
});

describe('withTimeout', () => {
  it('when the promise answers, then its result is returned', async () => {
    await expect(withTimeout(Promise.resolve('ok'), 1_000, 'store')).resolves.toBe('ok');
  });

  it('when the promise does not answer in time, then it rejects naming what did not answer', async () => {
    await expect(withTimeout(never, 1, 'redis get')).rejects.toThrow('redis get did not answer within 1 ms');
  });
});
