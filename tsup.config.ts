import { defineConfig } from 'tsup';

// One bundle per entry point, in both module formats, each with its own declarations
// (.d.ts for import, .d.cts for require) so both resolution modes type-check.
export default defineConfig({
  entry: { index: 'src/index.ts', register: 'register/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
});
