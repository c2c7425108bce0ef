import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores: keep file parallelism modest so Redis-backed and timing-sensitive
    // suites do not starve each other.
    maxWorkers: 2,
  },
});
