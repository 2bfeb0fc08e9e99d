import { resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

// The library: one bundle per entry point, in both module formats, each with its own declarations
// (.d.ts for import, .d.cts for require) so both resolution modes type-check. The pino, winston and
// Lambda integrations hold no client of their own (they use the one they are given, or register's),
// so their bundles stay small. register-setup is
// internal (not in the exports map, no declarations): register's set-up, loaded at run time by the
// register entry only when there is something to set up. final-delivery-worker is internal too: the
// worker thread register starts for its last delivery, found next to register-setup through
// import.meta.url (shimmed in the CommonJS build).
//
// The register entry: ESM from register/index.ts (which awaits the set-up with a top-level await),
// CommonJS from register/require.ts (which requires it), so neither bundles the client or
// OpenTelemetry. Its declarations come from the library build above. No tree-shaking (the rollup
// pass turns ESM into CommonJS; these are a few lines with nothing to shake).
//
// The `astralog` command: ESM only, no declarations.
//
// src/globals/otel-packages.ts loads the OpenTelemetry packages lazily (require); the ESM bundles
// use otel-packages.esm.ts, which imports them (that file says why). tsup may run esbuild with format
// esm for a CommonJS bundle and convert it afterwards: the output extension tells them apart.
const otelPackagesImportedInEsm: Plugin = {
  name: 'otel-packages-imported-in-esm',
  setup(build) {
    if (build.initialOptions.outExtension?.['.js'] === '.cjs') return;
    build.onResolve({ filter: /\/otel-packages\.ts$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.replace(/\.ts$/, '.esm.ts')) }));
  },
};
const common = { target: 'node22', platform: 'node', sourcemap: true, splitting: false, esbuildPlugins: [otelPackagesImportedInEsm] as Plugin[] } as const;
const register = { ...common, clean: false, treeshake: false, dts: false } as const;

export default defineConfig([
  {
    ...common,
    entry: {
      index: 'src/index.ts',
      pino: 'src/integrations/pino.ts',
      winston: 'src/integrations/winston.ts',
      lambda: 'src/integrations/lambda.ts',
      dev: 'src/dev.ts',
      'register-setup': 'src/register/register.ts',
      'final-delivery-worker': 'src/register/final-delivery-worker.ts',
    },
    format: ['esm', 'cjs'],
    shims: true,
    // Members marked @internal (the processor's and register's protocol with the exporter) are not published.
    dts: {
      entry: { index: 'src/index.ts', register: 'register/index.ts', pino: 'src/integrations/pino.ts', winston: 'src/integrations/winston.ts', lambda: 'src/integrations/lambda.ts', dev: 'src/dev.ts' },
      compilerOptions: { stripInternal: true },
    },
    clean: true,
    treeshake: true,
  },
  { ...register, entry: { register: 'register/index.ts' }, format: ['esm'] },
  { ...register, entry: { register: 'register/require.ts' }, format: ['cjs'] },
  { ...common, entry: { cli: 'src/receiver/cli.ts' }, format: ['esm'], dts: false, clean: false },
]);
