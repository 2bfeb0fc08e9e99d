import { defineConfig } from 'tsup';

// The library and its register entry: one bundle per entry point, in both module formats, each
// with its own declarations (.d.ts for import, .d.cts for require) so both resolution modes
// type-check. The `astralog` command: ESM only, no declarations.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', register: 'register/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node22',
    platform: 'node',
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
  },
  {
    entry: { cli: 'src/receiver/cli.ts' },
    format: ['esm'],
    dts: false,
    target: 'node22',
    platform: 'node',
    sourcemap: true,
    clean: false,
    splitting: false,
  },
]);
