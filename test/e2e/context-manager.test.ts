import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runApp } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { DIST_ESM } from '../support/spawn.ts';

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterEach(async () => {
  await receiver.close();
});

const PRELUDE = `
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createAstralog } from ${JSON.stringify(DIST_ESM)};
const registry = () => globalThis[Symbol.for('opentelemetry.js.api.1')]?.context;
`;

describe('the global context manager', () => {
  it('is registered by createAstralog when none is, so withContext follows awaits', async () => {
    const script = `${PRELUDE}
      const before = registry();
      const log = createAstralog({ apiKey: ${JSON.stringify(TEST_KEY)}, endpoint: ${JSON.stringify(receiver.url)} });
      await log.withContext({ trace_id: 'bound' }, async () => { await new Promise((r) => setTimeout(r, 5)); log.info('after await'); });
      await log.close();
      console.log(JSON.stringify({ before: before === undefined, after: typeof registry()?.active }));`;
    const run = await runApp(['--input-type=module', '-e', script], { env: cleanEnv() });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ before: true, after: 'function' });
    expect(receiver.accepted).toMatchObject([{ message: 'after await', trace_id: 'bound' }]);
  });

  it('never replaces one the application registered, and prints no duplicate-registration error', async () => {
    const script = `${PRELUDE}
      const { diag, DiagConsoleLogger, DiagLogLevel } = await import('@opentelemetry/api');
      diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.ERROR); // OTel's duplicate-registration error would print here
      const mine = new AsyncLocalStorageContextManager().enable();
      context.setGlobalContextManager(mine);
      const log = createAstralog({ apiKey: ${JSON.stringify(TEST_KEY)}, endpoint: ${JSON.stringify(receiver.url)} });
      log.withContext({ trace_id: 'still works' }, () => log.info('inside'));
      await log.close();
      console.log(JSON.stringify({ same: registry() === mine }));`;
    const run = await runApp(['--input-type=module', '-e', script], { env: cleanEnv() });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ same: true });
    expect(receiver.accepted).toMatchObject([{ message: 'inside', trace_id: 'still works' }]);
  });
});
