import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The tests run as ESM, so with the ESM bundles' way of loading OpenTelemetry (tsup.config.ts);
  // the CommonJS way is register's, which the end-to-end tests run from dist/.
  resolve: { alias: [{ find: /^(.*)\/otel-packages\.ts$/, replacement: '$1/otel-packages.esm.ts' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Loopback servers and spawned processes: keep parallelism modest on 2-core machines.
    maxWorkers: 2,
    // The machine's proxy settings must not route the tests' loopback and made-up hosts: tests that
    // want a proxy name one (the proxy option, or the environment of a child process).
    env: { HTTP_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' },
  },
});
