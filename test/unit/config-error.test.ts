import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AstralogConfigError } from '../../src/index.ts';
import { ROOT } from '../support/spawn.ts';

// Every entry point bundles its own copy of AstralogConfigError; a user catching the one from the
// library entry must recognise an error thrown by /lambda (or /pino, /winston), in either module format.
describe('AstralogConfigError across entry points and module formats', () => {
  const require = createRequire(import.meta.url);
  const thrownBy = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    throw new Error('expected a throw');
  };

  it('an error from another bundle is instanceof every copy, and other errors are not', async () => {
    const lambdaCjs = require(join(ROOT, 'dist', 'lambda.cjs')) as { wrapHandler: (h: unknown) => unknown };
    const indexCjs = require(join(ROOT, 'dist', 'index.cjs')) as { AstralogConfigError: typeof AstralogConfigError };
    const indexEsm = (await import(join(ROOT, 'dist', 'index.js'))) as { AstralogConfigError: typeof AstralogConfigError };
    const error = thrownBy(() => lambdaCjs.wrapHandler('not a function'));
    expect(indexCjs.AstralogConfigError).not.toBe(indexEsm.AstralogConfigError);
    for (const copy of [indexCjs.AstralogConfigError, indexEsm.AstralogConfigError, AstralogConfigError]) expect(error).toBeInstanceOf(copy);
    expect(new Error('x')).not.toBeInstanceOf(indexCjs.AstralogConfigError);
    expect(Object.keys(error as object)).not.toContain('@astralog/otel.config-error');
    expect(JSON.stringify(error)).not.toContain('config-error');
  });
});
