import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Loopback servers and spawned processes: keep parallelism modest on 2-core machines.
    maxWorkers: 2,
  },
});
