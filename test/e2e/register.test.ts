import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, ownLines, runApp, withoutOwnLines, signalWhenReady, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { useReceiver } from '../support/client-fixture.ts';
import { ROOT, type ProcessResult } from '../support/spawn.ts';

// `node --import @astralog/otel/register app.mjs` / `node --require @astralog/otel/register app.cjs`
// in real processes, against a real receiver, each compared with the same app run without register.
// cwd is the repository root, so the bare specifier resolves by package self-reference to dist/.

const REGISTER = '@astralog/otel/register';
const SPAWN_TIMEOUT_MS = 12_000;

interface SentEvent {
  timestamp: string;
  level: string;
  message: string;
  service: string;
  trace_id?: string;
  metadata?: Record<string, unknown>;
}

type Format = 'ESM' | 'CJS';
const FORMATS: Format[] = ['ESM', 'CJS'];
const ext = (format: Format): string => (format === 'ESM' ? 'mjs' : 'cjs');
const preload = (format: Format): string[] => (format === 'ESM' ? ['--import', REGISTER] : ['--require', REGISTER]);
/** `import { a, b } from 'm';` or `const { a, b } = require('m');` */
const imports = (format: Format, names: string, from: string): string =>
  format === 'ESM' ? `import { ${names} } from ${JSON.stringify(from)};` : `const { ${names} } = require(${JSON.stringify(from)});`;

/** Each app in both module formats (name -> source for that format). */
const APPS: Record<string, (format: Format) => string> = {
  natural: (f) => `${imports(f, 'logs', '@opentelemetry/api')}
console.log('hello %s', 'world');
console.warn('careful');
logs.getLogger('app').emit({ body: 'via otel api', severityText: 'WARN' });
`,
  'sigterm-default': () => `
console.log('working');
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`,
  'sigterm-handler': () => `
process.on('SIGTERM', () => {
  console.log('draining');
  setTimeout(() => process.exit(0), 100);
});
console.log('working');
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`,
  crash: () => `console.log('before crash');
setTimeout(() => { throw new Error('boom'); }, 10);
`,
};

/**
 * NodeSDK's own OTLP log exporter (OTEL_LOGS_EXPORTER=otlp) must receive nothing; should it ever
 * export (a regression), it goes to the receiver on 127.0.0.1 (answered 404 at once), never to
 * localhost:4318. Set only around NodeSDK's start, so register never sees it (it would ship over
 * OTLP too).
 */
const KEEP_OTLP_LOCAL = 'process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT = process.env.E2E_OTLP_URL;';

/** ESM-only apps. */
const ESM_APPS: Record<string, string> = {
  'rejection.mjs': `console.log('before rejection');
await new Promise((resolve) => setTimeout(resolve, 10));
Promise.reject(new Error('rejected'));
`,
  'own-handler.mjs': `process.on('uncaughtException', (e) => { console.log('handled ' + e.message); });
setTimeout(() => { throw new Error('boom'); }, 10);
setTimeout(() => {}, 200);
`,
  'exit3.mjs': `console.log('last words');
process.exit(3);
`,
  // Logs, then calls process.exit() once told (on stdin) that the request carrying the line is on the wire.
  'exit-in-flight.mjs': `console.log('on the wire');
process.stdin.once('data', () => process.exit(0));
`,
  'quiet.mjs': `import { logs } from '@opentelemetry/api';
console.log('hello %s', 'world');
logs.getLogger('app').emit({ body: 'via otel api', severityText: 'WARN' });
`,
  'sdk-after.mjs': `import { logs } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
${KEEP_OTLP_LOCAL}
const sdk = new NodeSDK({ serviceName: 'x' });
sdk.start();
delete process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT;
logs.getLogger('app').emit({ body: 'after sdk start', severityText: 'INFO' });
await sdk.shutdown();
`,
  'sdk-first.mjs': `import { NodeSDK } from '@opentelemetry/sdk-node';
${KEEP_OTLP_LOCAL}
const sdk = new NodeSDK({ serviceName: 'x' });
sdk.start();
delete process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT; // register, loaded next, must not see it
globalThis.__e2eSdk = sdk;
`,
  'sdk-first-app.mjs': `console.log('console after sdk');
await globalThis.__e2eSdk.shutdown();
`,
  'traced.mjs': `import { trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
const sdk = new NodeSDK({ serviceName: 'x', traceExporter: new InMemorySpanExporter() });
sdk.start();
trace.getTracer('t').startActiveSpan('op', (span) => {
  console.log('inside span');
  const { traceId, spanId } = span.spanContext();
  process.stdout.write(JSON.stringify({ traceId, spanId }) + '\\n');
  span.end();
});
await sdk.shutdown();
`,
};

let apps: AppDir;
const appPath = (name: string): string => `${apps.dir}/${name}`;

beforeAll(() => {
  apps = makeAppDir();
  for (const [name, source] of Object.entries(APPS)) {
    for (const format of FORMATS) apps.write(`${name}.${ext(format)}`, source(format));
  }
  for (const [name, source] of Object.entries(ESM_APPS)) apps.write(name, source);
});

afterAll(() => {
  apps?.remove();
});

const perTest = useReceiver();

/** The environment of an enabled run (inherited OTEL_* / ASTRALOG_* removed). */
function enabledEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: perTest.receiver.url, ASTRALOG_SERVICE: 'e2e-app', ...extra });
}

/** The same app with and without register, concurrently. */
async function withAndWithout(
  preloadArgs: string[],
  app: string,
  env: NodeJS.ProcessEnv = enabledEnv(),
): Promise<{ on: ProcessResult; off: ProcessResult }> {
  const [on, off] = await Promise.all([
    runApp([...preloadArgs, appPath(app)], { env, timeoutMs: SPAWN_TIMEOUT_MS }),
    runApp([appPath(app)], { env, timeoutMs: SPAWN_TIMEOUT_MS }),
  ]);
  return { on, off };
}

function messages(): string[] {
  return (perTest.receiver.accepted as SentEvent[]).map((e) => e.message);
}

function eventsWith(message: string): SentEvent[] {
  return (perTest.receiver.accepted as SentEvent[]).filter((e) => e.message === message);
}


const describeResult = (r: ProcessResult): string =>
  `code=${r.code} signal=${r.signal} (${r.durationMs} ms)\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

describe.each(FORMATS)('register (%s)', (format) => {
  it('natural exit: console and OTel API logs arrive, output is kept, exit code unchanged', async () => {
    const { on, off } = await withAndWithout(preload(format), `natural.${ext(format)}`);
    expect(on.code, describeResult(on)).toBe(0);
    expect(on.signal).toBeNull();
    expect(off.code, describeResult(off)).toBe(0);
    expect(on.code).toBe(off.code);

    await perTest.receiver.waitForEvents(3, 2_000);
    const sent = perTest.receiver.accepted as SentEvent[];
    expect(sent).toHaveLength(3);
    expect(sent).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'info', message: 'hello world', service: 'e2e-app' }),
        expect.objectContaining({ level: 'warn', message: 'careful', service: 'e2e-app' }),
        expect.objectContaining({ level: 'warn', message: 'via otel api', service: 'e2e-app' }),
      ]),
    );

    // Output not swallowed: same stdout as without register, console.warn still on stderr.
    expect(on.stdout).toContain('hello world');
    expect(on.stdout).toBe(off.stdout);
    expect(on.stderr).toContain('careful');
    const own = ownLines(on.stderr);
    expect(own, on.stderr).toHaveLength(1);
    expect(own[0]).toContain('sending logs to');
    expect(own[0]).toContain('e2e-app');
    expect(withoutOwnLines(on.stderr)).toBe(off.stderr);
  });

  it('SIGTERM with no handler of the app: ends by SIGTERM as without register, after delivering', async () => {
    const env = enabledEnv();
    const [onResult, offResult] = await Promise.all([
      signalWhenReady([...preload(format), appPath(`sigterm-default.${ext(format)}`)], { env, timeoutMs: SPAWN_TIMEOUT_MS }, 'SIGTERM'),
      signalWhenReady([appPath(`sigterm-default.${ext(format)}`)], { env, timeoutMs: SPAWN_TIMEOUT_MS }, 'SIGTERM'),
    ]);

    expect({ code: offResult.code, signal: offResult.signal }, describeResult(offResult)).toEqual({ code: null, signal: 'SIGTERM' });
    expect({ code: onResult.code, signal: onResult.signal }, describeResult(onResult)).toEqual({ code: offResult.code, signal: offResult.signal });
    expect(messages()).toContain('working');
    expect(eventsWith('working')).toHaveLength(1);
  });

  it('SIGTERM with a handler of the app: the app decides (exit 0), and what it logs while draining arrives', async () => {
    const env = enabledEnv();
    const [onResult, offResult] = await Promise.all([
      signalWhenReady([...preload(format), appPath(`sigterm-handler.${ext(format)}`)], { env, timeoutMs: SPAWN_TIMEOUT_MS }, 'SIGTERM'),
      signalWhenReady([appPath(`sigterm-handler.${ext(format)}`)], { env, timeoutMs: SPAWN_TIMEOUT_MS }, 'SIGTERM'),
    ]);

    expect({ code: offResult.code, signal: offResult.signal }, describeResult(offResult)).toEqual({ code: 0, signal: null });
    expect({ code: onResult.code, signal: onResult.signal }, describeResult(onResult)).toEqual({ code: 0, signal: null });
    expect(onResult.stdout).toContain('draining');
    expect(messages()).toEqual(expect.arrayContaining(['working', 'draining']));
    expect(eventsWith('draining')).toHaveLength(1);
  });

  it('uncaught exception: same crash report and exit code 1, plus a fatal event', async () => {
    const file = `crash.${ext(format)}`;
    const { on, off } = await withAndWithout(preload(format), file);
    for (const r of [on, off]) {
      expect(r.code, describeResult(r)).toBe(1);
      expect(r.signal).toBeNull();
      expect(r.stderr).toContain('Error: boom');
      expect(r.stderr).toMatch(new RegExp(`\\n\\s+at .*${file.replace('.', '\\.')}:\\d+:\\d+`)); // the stack
      // Node's crash report starts with the location of the throw: the app, not register's bundle.
      const firstLine = withoutOwnLines(r.stderr).split('\n')[0];
      expect(firstLine, r.stderr).toContain(`${file}:2`);
      expect(r.stderr).not.toContain('dist/register');
    }
    expect(withoutOwnLines(on.stderr)).toBe(off.stderr);
    expect(on.stdout).toBe(off.stdout);

    expect(messages()).toContain('before crash');
    expect(perTest.receiver.accepted).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        message: 'Error: boom',
        service: 'e2e-app',
        metadata: expect.objectContaining({
          error: expect.objectContaining({ name: 'Error', message: 'boom', stack: expect.stringContaining('boom') }),
          origin: 'uncaughtException',
        }),
      }),
    );
  });
});

describe('register (ESM only)', () => {
  it('unhandled rejection: exit code 1 as without register, plus a fatal event', async () => {
    const { on, off } = await withAndWithout(preload('ESM'), 'rejection.mjs');
    expect(off.code, describeResult(off)).toBe(1);
    expect(on.code, describeResult(on)).toBe(off.code);
    expect(on.signal).toBeNull();
    expect(on.stderr).toContain('rejected');
    expect(on.stderr).not.toContain('dist/register');
    expect(withoutOwnLines(on.stderr)).toBe(off.stderr);

    expect(messages()).toContain('before rejection');
    expect(perTest.receiver.accepted).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        message: 'Error: rejected',
        metadata: expect.objectContaining({
          error: expect.objectContaining({ name: 'Error', message: 'rejected' }),
          origin: 'unhandledRejection',
        }),
      }),
    );
  });

  it("an app's own uncaughtException handler keeps working; the fatal event and its log still arrive", async () => {
    const { on, off } = await withAndWithout(preload('ESM'), 'own-handler.mjs');
    expect(off.code, describeResult(off)).toBe(0);
    expect(on.code, describeResult(on)).toBe(0);
    expect(on.signal).toBeNull();
    expect(off.stdout).toContain('handled boom');
    expect(on.stdout).toBe(off.stdout);

    await perTest.receiver.waitForEvents(2, 2_000);
    expect(eventsWith('handled boom')).toHaveLength(1);
    expect(perTest.receiver.accepted).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        message: 'Error: boom',
        metadata: expect.objectContaining({ origin: 'uncaughtException' }),
      }),
    );
  });

  it('process.exit(3): exit code 3 as without register, and the last line arrives', async () => {
    const { on, off } = await withAndWithout(preload('ESM'), 'exit3.mjs');
    expect(off.code, describeResult(off)).toBe(3);
    expect(on.code, describeResult(on)).toBe(3);
    expect(on.stdout).toBe(off.stdout);
    expect(eventsWith('last words')).toHaveLength(1);
  });

  it('process.exit() while the request of a line is on the wire: the last delivery does not post it again', async () => {
    // The receiver takes its time to answer (and stores the events when it does, client or not).
    perTest.receiver.setBehaviour(() => ({ kind: 'delay', ms: 1_500, then: { kind: 'accept' } }));
    const child = spawn(process.execPath, ['--import', REGISTER, appPath('exit-in-flight.mjs')], {
      cwd: ROOT,
      env: enabledEnv({ ASTRALOG_FLUSH_INTERVAL_MS: '20' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await perTest.receiver.waitForRequests(1, 10_000); // its request arrived; its answer is 1.5 s away
    child.stdin.write('go\n');
    expect(await ended).toBe(0);
    // A last delivery posts before the process is gone: a second request would have arrived by now.
    expect(perTest.receiver.requests).toHaveLength(1);
    await perTest.receiver.waitForEvents(1, 5_000);
    expect(eventsWith('on the wire')).toHaveLength(1);
  });

  it('no ASTRALOG_API_KEY: one line naming it, the app unchanged, nothing sent', async () => {
    const env = cleanEnv({ ASTRALOG_ENDPOINT: perTest.receiver.url, ASTRALOG_SERVICE: 'e2e-app' });
    const { on, off } = await withAndWithout(preload('ESM'), 'natural.mjs', env);
    expect(on.code, describeResult(on)).toBe(off.code);
    expect(on.code).toBe(0);
    expect(on.stdout).toBe(off.stdout);
    expect(on.stdout).toContain('hello world');
    const own = ownLines(on.stderr);
    expect(own, on.stderr).toHaveLength(1);
    expect(own[0]).toContain('ASTRALOG_API_KEY');
    expect(on.stderr.split('\n').filter((l) => l.includes('ASTRALOG_API_KEY'))).toHaveLength(1);
    expect(withoutOwnLines(on.stderr)).toBe(off.stderr);
    expect(perTest.receiver.requests).toHaveLength(0);
  });

  it('bad configuration (ASTRALOG_MAX_QUEUE_SIZE=lots): one line naming it, the app runs normally, nothing sent', async () => {
    const { on, off } = await withAndWithout(preload('ESM'), 'quiet.mjs', enabledEnv({ ASTRALOG_MAX_QUEUE_SIZE: 'lots' }));
    expect(on.code, describeResult(on)).toBe(0);
    expect(on.code).toBe(off.code);
    expect(on.stdout).toBe(off.stdout);
    expect(on.stdout).toContain('hello world');
    expect(off.stderr).toBe('');
    const lines = on.stderr.split('\n').filter((l) => l !== '');
    expect(lines, on.stderr).toHaveLength(1);
    expect(lines[0]).toContain('ASTRALOG_MAX_QUEUE_SIZE');
    expect(lines[0]).toContain('whole number');
    expect(perTest.receiver.requests).toHaveLength(0);
  });

  it('bad configuration (ASTRALOG_ENDPOINT=ftp://example): one line naming it, the app runs normally', async () => {
    const { on, off } = await withAndWithout(preload('ESM'), 'quiet.mjs', enabledEnv({ ASTRALOG_ENDPOINT: 'ftp://example' }));
    expect(on.code, describeResult(on)).toBe(0);
    expect(on.code).toBe(off.code);
    expect(on.stdout).toBe(off.stdout);
    const lines = on.stderr.split('\n').filter((l) => l !== '');
    expect(lines, on.stderr).toHaveLength(1);
    expect(lines[0]).toContain('ASTRALOG_ENDPOINT');
  });

  it('OTEL_SDK_DISABLED=true: silent, nothing sent, the app unchanged', async () => {
    const { on, off } = await withAndWithout(preload('ESM'), 'quiet.mjs', enabledEnv({ OTEL_SDK_DISABLED: 'true' }));
    expect(on.code, describeResult(on)).toBe(0);
    expect(on.code).toBe(off.code);
    expect(on.stdout).toBe(off.stdout);
    expect(on.stderr).toBe('');
    expect(perTest.receiver.requests).toHaveLength(0);
  });

  it('loaded twice (--require and --import): one startup line, each log once', async () => {
    const run = await runApp(['--require', REGISTER, '--import', REGISTER, appPath('natural.mjs')], {
      env: enabledEnv(),
      timeoutMs: SPAWN_TIMEOUT_MS,
    });
    expect(run.code, describeResult(run)).toBe(0);
    const own = ownLines(run.stderr);
    expect(own, run.stderr).toHaveLength(1);
    expect(own[0]).toContain('sending logs to');
    expect(run.stdout.match(/hello world/g)).toHaveLength(1);
    await perTest.receiver.waitForEvents(3, 2_000);
    expect(messages().sort()).toEqual(['careful', 'hello world', 'via otel api']);
  });

  it('ASTRALOG_CAPTURE_CONSOLE=false: console lines are not sent, OTel API logs are', async () => {
    const run = await runApp(['--import', REGISTER, appPath('natural.mjs')], {
      env: enabledEnv({ ASTRALOG_CAPTURE_CONSOLE: 'false' }),
      timeoutMs: SPAWN_TIMEOUT_MS,
    });
    expect(run.code, describeResult(run)).toBe(0);
    expect(run.stdout).toContain('hello world');
    await perTest.receiver.waitForEvents(1, 2_000);
    expect(messages()).toEqual(['via otel api']);
  });

  describe('with NodeSDK', () => {
    const sdkEnv = (): NodeJS.ProcessEnv =>
      enabledEnv({
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'otlp',
        E2E_OTLP_URL: `${perTest.receiver.url}/otlp/v1/logs`,
      });

    it('started after register: says so on stderr, and OTel API logs still reach Astralog', async () => {
      const run = await runApp(['--import', REGISTER, appPath('sdk-after.mjs')], { env: sdkEnv(), timeoutMs: SPAWN_TIMEOUT_MS });
      expect(run.code, describeResult(run)).toBe(0);
      const late = ownLines(run.stderr).filter((l) => l.includes('tried to register its own logger provider after @astralog/otel/register'));
      expect(late, run.stderr).toHaveLength(1);
      await perTest.receiver.waitForEvents(1, 2_000);
      expect(eventsWith('after sdk start'), JSON.stringify(perTest.receiver.accepted)).toHaveLength(1);
    });

    it('started before register: says so on stderr, and console logs still reach Astralog', async () => {
      const run = await runApp(['--import', appPath('sdk-first.mjs'), '--import', REGISTER, appPath('sdk-first-app.mjs')], {
        env: sdkEnv(),
        timeoutMs: SPAWN_TIMEOUT_MS,
      });
      expect(run.code, describeResult(run)).toBe(0);
      expect(run.stderr).toContain('was registered before @astralog/otel/register');
      await perTest.receiver.waitForEvents(1, 2_000);
      expect(eventsWith('console after sdk'), JSON.stringify(perTest.receiver.accepted)).toHaveLength(1);
    });

    it("correlates console logs inside a NodeSDK span with the span's trace and span ids", async () => {
      const run = await runApp(['--import', REGISTER, appPath('traced.mjs')], {
        env: enabledEnv({ OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }),
        timeoutMs: SPAWN_TIMEOUT_MS,
      });
      expect(run.code, describeResult(run)).toBe(0);
      const ids = JSON.parse(run.stdout.split('\n').find((l) => l.startsWith('{')) ?? 'null') as { traceId: string; spanId: string } | null;
      expect(ids, run.stdout).not.toBeNull();
      expect(ids!.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ids!.traceId).not.toBe('0'.repeat(32));
      await perTest.receiver.waitForEvents(1, 2_000);
      const [event] = eventsWith('inside span');
      expect(event, JSON.stringify(perTest.receiver.accepted)).toBeDefined();
      expect(event!.trace_id).toBe(ids!.traceId);
      expect(event!.metadata?.['span_id']).toBe(ids!.spanId);
    });
  });
});

describe('register whose last-delivery worker file is missing (a bundler left it behind)', () => {
  it('process.exit(3): exits at once with code 3, says there is no last delivery, and counts the line as dropped', async () => {
    const dist = `${apps.dir}/bundled/dist`;
    mkdirSync(dist, { recursive: true });
    copyFileSync(`${ROOT}/package.json`, `${apps.dir}/bundled/package.json`);
    for (const file of readdirSync(`${ROOT}/dist`)) {
      if (/\.(c?js)$/.test(file) && !file.startsWith('final-delivery-worker')) copyFileSync(`${ROOT}/dist/${file}`, `${dist}/${file}`);
    }
    // A budget long enough to tell waiting for a worker that never loads (20 s) from not waiting.
    const run = await runApp(['--import', `${dist}/register.js`, appPath('exit3.mjs')], {
      env: enabledEnv({ ASTRALOG_SHUTDOWN_TIMEOUT_MS: '20000' }),
      timeoutMs: 30_000,
    });
    expect(run.code, describeResult(run)).toBe(3);
    expect(run.durationMs, describeResult(run)).toBeLessThan(10_000);
    const lines = ownLines(run.stderr);
    expect(lines.filter((l) => /no last delivery at exit: .*final-delivery-worker\.c?js is missing/.test(l)), describeResult(run)).toHaveLength(1);
    expect(lines.filter((l) => /dropped 1 log record\(s\): 1 shutdown/.test(l)), describeResult(run)).toHaveLength(1);
  });
});
