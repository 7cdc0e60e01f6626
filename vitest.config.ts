import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The process tests run the built CLI (dist/), exactly what `npm start` runs.
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real sockets and real processes on a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
  },
});
