import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, runApp, withoutOwnLines, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { useReceiver } from '../support/client-fixture.ts';
import type { ProcessResult } from '../support/spawn.ts';

// Console capture in real processes (`--import` for ESM, `--require` for CommonJS) against a real
// receiver, each app compared with the same app run without register: what the app prints must not
// change by a byte; what Astralog receives is one event per call, with secrets redacted.

const REGISTER = '@astralog/otel/register';
const SPAWN_TIMEOUT_MS = 12_000;

interface SentEvent {
  level: string;
  message: string;
  metadata?: Record<string, unknown>;
}

type Format = 'ESM' | 'CJS';
const FORMATS: Format[] = ['ESM', 'CJS'];
const ext = (format: Format): string => (format === 'ESM' ? 'mjs' : 'cjs');
const preload = (format: Format): string[] => (format === 'ESM' ? ['--import', REGISTER] : ['--require', REGISTER]);

/** Three traces: with a format string and an object, without arguments, and from a timer. */
const TRACE_APP = `function handler() {
  console.trace('charge %d', 42, { token: 'abc', user: 'u' });
}
handler();
console.trace();
setTimeout(function later() {
  console.trace('later');
}, 1);
`;

const SECRET_APP = `console.log({ password: 'hunter2', user: 'x' });
console.error('login failed for %s', 'x', { authorization: 'Bearer hunter2', attempt: 3 });
`;

/** Another tool's console.trace, installed before register (`--require` order): it must keep working. */
const OTHER_TRACE = `const nodeTrace = console.trace;
console.trace = function otherTrace(...args) {
  process.stderr.write('[other tool]\\n');
  nodeTrace(...args);
};
`;

let apps: AppDir;
beforeAll(() => {
  apps = makeAppDir();
  for (const format of FORMATS) {
    apps.write(`trace.${ext(format)}`, TRACE_APP);
    apps.write(`secret.${ext(format)}`, SECRET_APP);
  }
  apps.write('other-trace.cjs', OTHER_TRACE);
});
afterAll(() => {
  apps?.remove();
});

const perTest = useReceiver();

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: perTest.receiver.url, ASTRALOG_SERVICE: 'e2e-console', ASTRALOG_QUIET: 'true', ...extra });
}

/** The app with register and without, concurrently, in the same environment. */
async function withAndWithout(format: Format, app: string, environment: NodeJS.ProcessEnv): Promise<{ on: ProcessResult; off: ProcessResult }> {
  const path = `${apps.dir}/${app}.${ext(format)}`;
  const [on, off] = await Promise.all([
    runApp([...preload(format), path], { env: environment, timeoutMs: SPAWN_TIMEOUT_MS }),
    runApp([path], { env: environment, timeoutMs: SPAWN_TIMEOUT_MS }),
  ]);
  expect(off.code, describeRun(off)).toBe(0);
  expect(on.code, describeRun(on)).toBe(0);
  return { on, off };
}

const describeRun = (r: ProcessResult): string => `code=${r.code} signal=${r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
const sent = (): SentEvent[] => perTest.receiver.accepted as SentEvent[];

describe.each(FORMATS)('console capture (%s)', (format) => {
  it.each([
    ['no colours (stderr is a pipe)', {}],
    ['colours (FORCE_COLOR=1)', { FORCE_COLOR: '1' }],
  ])('console.trace prints what Node prints, byte for byte, and is one debug event with the stack: %s', async (_name, extra) => {
    const { on, off } = await withAndWithout(format, 'trace', env(extra));

    expect(off.stderr).toMatch(/^Trace: charge 42 \{/);
    expect(off.stderr).toContain('\nTrace\n');
    expect(withoutOwnLines(on.stderr)).toBe(off.stderr);
    expect(on.stderr).not.toContain('captured');
    expect(on.stdout).toBe(off.stdout);

    // register flushes at exit, so everything is in once the process has ended
    await perTest.receiver.waitForEvents(3, 2_000);
    const events = sent();
    expect(events.map((e) => [e.level, e.message]), JSON.stringify(events)).toEqual([
      ['debug', "charge 42 { token: '[REDACTED]', user: 'u' }"],
      ['debug', ''],
      ['debug', 'later'],
    ]);
    const [charge, bare, later] = events;
    const app = `trace.${ext(format)}`;
    expect(charge?.metadata?.stack).toMatch(new RegExp(`^ {4}at handler \\(.*${app.replace('.', '\\.')}:2:11\\)\\n`));
    expect(charge?.metadata).toMatchObject({ token: '[REDACTED]', user: 'u' });
    expect(bare?.metadata?.stack).toMatch(new RegExp(`^ {4}at .*${app.replace('.', '\\.')}:5:9\\)?\\n`));
    expect(later?.metadata?.stack).toMatch(new RegExp(`^ {4}at Timeout\\.later \\[as _onTimeout\\] \\(.*${app.replace('.', '\\.')}:7:11\\)\\n`));
    // The printed frames and the shipped ones are the same frames.
    for (const event of events) {
      expect(off.stderr).toContain(String(event.metadata?.stack));
      expect(String(event.metadata?.stack)).not.toContain('captured');
    }
  });

  it('an object with a secret is printed as the app wrote it, and shipped redacted, its fields as metadata', async () => {
    const { on, off } = await withAndWithout(format, 'secret', env());

    expect(on.stdout).toBe("{ password: 'hunter2', user: 'x' }\n");
    expect(on.stdout).toBe(off.stdout);
    expect(withoutOwnLines(on.stderr)).toBe(off.stderr);
    expect(off.stderr).toContain('Bearer hunter2');

    await perTest.receiver.waitForEvents(2, 2_000);
    expect(sent()).toEqual([
      expect.objectContaining({
        level: 'info',
        message: "{ password: '[REDACTED]', user: 'x' }",
        metadata: { password: '[REDACTED]', user: 'x' },
      }),
      expect.objectContaining({
        level: 'error',
        message: "login failed for x { authorization: '[REDACTED]', attempt: 3 }",
        metadata: { authorization: '[REDACTED]', attempt: 3 },
      }),
    ]);
    for (const request of perTest.receiver.requests) expect(request.bodyText).not.toContain('hunter2');
  });
});

it('a console.trace another tool installed before register is kept, and each call is one event', async () => {
  const path = `${apps.dir}/trace.cjs`;
  const other = ['--require', `${apps.dir}/other-trace.cjs`];
  const [on, off] = await Promise.all([
    runApp([...other, '--require', REGISTER, path], { env: env(), timeoutMs: SPAWN_TIMEOUT_MS }),
    runApp([...other, path], { env: env(), timeoutMs: SPAWN_TIMEOUT_MS }),
  ]);
  expect(off.code, describeRun(off)).toBe(0);
  expect(on.code, describeRun(on)).toBe(0);
  // Register calls the other tool's trace, so its own frame is in that stack (unavoidable when
  // wrapping someone else's function); the rest of what is printed is the same.
  const notFrames = (text: string): string[] => text.split('\n').filter((line) => !line.startsWith('    at '));
  expect(notFrames(withoutOwnLines(on.stderr))).toEqual(notFrames(off.stderr));
  expect(notFrames(off.stderr).filter((line) => line === '[other tool]')).toHaveLength(3);
  expect(on.stderr).toMatch(/^ {4}at handler \(.*trace\.cjs:2:11\)$/m);

  await perTest.receiver.waitForEvents(3, 2_000);
  expect(sent().map((e) => [e.level, e.message])).toEqual([
    ['debug', "charge 42 { token: '[REDACTED]', user: 'u' }"],
    ['debug', ''],
    ['debug', 'later'],
  ]);
  expect(sent()[0]?.metadata?.stack).toMatch(/^ {4}at handler \(.*trace\.cjs:2:11\)\n/);
});
