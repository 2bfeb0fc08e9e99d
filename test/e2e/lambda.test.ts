import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, ownLines, runApp, spawnNode } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import type { ProcessResult } from '../support/spawn.ts';

// `@astralog/otel/lambda` from the BUILT package (dist/lambda.js and dist/lambda.cjs), in real
// processes: with register's client (`--import` / `--require @astralog/otel/register`), with
// createAstralog's, with register off, and with neither. The app calls its wrapped handler as the
// Lambda runtime would, with a context that reports the time left. Apps run as `--eval` source with
// cwd the repository root, so `@astralog/otel/lambda` resolves by package self-reference through
// the exports map (its import and require conditions), as it does for users.

const REGISTER = '@astralog/otel/register';
const SPAWN_TIMEOUT_MS = 12_000;

type Format = 'ESM' | 'CJS';
const FORMATS: Format[] = ['ESM', 'CJS'];
const preload = (format: Format): string[] => (format === 'ESM' ? ['--import', REGISTER] : ['--require', REGISTER]);
const imports = (format: Format, names: string, from: string): string =>
  format === 'ESM' ? `import { ${names} } from ${JSON.stringify(from)};` : `const { ${names} } = require(${JSON.stringify(from)});`;

/** The context the Lambda runtime passes (the part the wrapper reads). */
const CONTEXT = `{ awsRequestId: 'req-1', functionName: 'fn', getRemainingTimeInMillis: () => 30_000 }`;

const APPS: Record<string, (format: Format) => string> = {
  // register's client: logs through console (captured) and the OTel API inside the handler, prints
  // what the invocation returned once it has, then stays alive until told to go (SIGTERM), so the
  // test looks at the receiver while nothing but the wrapper's flush can have sent the events.
  'with-register': (f) => `${imports(f, 'wrapHandler', '@astralog/otel/lambda')}
${imports(f, 'logs', '@opentelemetry/api')}
const handler = wrapHandler(async (event, context) => {
  console.log('handling ' + event.id + ' for ' + context.awsRequestId);
  await new Promise((resolve) => setTimeout(resolve, 5));
  logs.getLogger('fn').emit({ body: 'via otel api', severityText: 'WARN' });
  return { statusCode: 200, id: event.id };
});
handler({ id: 'e-1' }, ${CONTEXT}).then((result) => {
  process.stdout.write('resolved ' + JSON.stringify(result) + '\\n');
  setInterval(() => {}, 1_000);
});
`,
  // The handler's error comes back unchanged, after the flush.
  'rethrow-register': (f) => `${imports(f, 'wrapHandler', '@astralog/otel/lambda')}
class OrderError extends Error { code = 'E_ORDER'; }
const handler = wrapHandler(async () => {
  console.error('about to fail');
  throw new OrderError('no such order');
});
handler({}, ${CONTEXT}).catch((error) => {
  process.stdout.write('rejected ' + JSON.stringify({ same: error instanceof OrderError, code: error.code, message: error.message }) + '\\n');
  setInterval(() => {}, 1_000);
});
`,
  // createAstralog's client from the main entry, wrapped by the lambda entry (two bundles).
  'with-client': (f) => `${imports(f, 'createAstralog', '@astralog/otel')}
${imports(f, 'wrapHandler', '@astralog/otel/lambda')}
const astralog = createAstralog({ apiKey: process.env.E2E_KEY, endpoint: process.env.E2E_URL, service: 'fn', flushIntervalMs: 600_000 });
const handler = wrapHandler(async (event) => {
  astralog.info('client handling ' + event.id);
  return 'ok ' + event.id;
}, { client: astralog });
handler({ id: 'e-2' }, ${CONTEXT}).then((result) => {
  process.stdout.write('resolved ' + JSON.stringify(result) + '\\n');
  setInterval(() => {}, 1_000);
  process.on('SIGTERM', () => process.exit(0)); // no close(): nothing else sends
});
`,
  // No client, no register: the mistake is reported where it is made, at wrap time.
  'no-client': (f) => `${imports(f, 'wrapHandler', '@astralog/otel/lambda')}
try {
  wrapHandler(async () => 1);
  process.stdout.write('wrapped\\n');
} catch (error) {
  process.stdout.write(JSON.stringify({ name: error.name, code: error.code, option: error.option, message: error.message }) + '\\n');
}
`,
  // register loaded but off (no key): the wrapper only calls the handler.
  'register-off': (f) => `${imports(f, 'wrapHandler', '@astralog/otel/lambda')}
const handler = wrapHandler(async (event) => event * 2);
handler(21, ${CONTEXT}).then((result) => process.stdout.write('result ' + result + '\\n'));
`,
};

/** `node` arguments that run app `name` in `format`. */
const appArgs = (name: string, format: Format): string[] => [`--input-type=${format === 'ESM' ? 'module' : 'commonjs'}`, '--eval', (APPS[name] as (f: Format) => string)(format)];

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterEach(async () => {
  await receiver.close();
});

/** Register on, sending to the receiver; no flush on interval, so only the wrapper's flush sends before exit. */
function registerEnv(): NodeJS.ProcessEnv {
  return cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_SERVICE: 'fn', ASTRALOG_FLUSH_INTERVAL_MS: '600000' });
}

const describeResult = (r: ProcessResult): string =>
  `code=${r.code} signal=${r.signal} (${r.durationMs} ms)\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

type SentEvent = { level: string; message: string; service: string };
const sent = (): Array<[string, string, string]> => (receiver.accepted as SentEvent[]).map((e) => [e.level, e.message, e.service]);

describe.each(FORMATS)('wrapHandler from the built package (%s)', (format) => {
  it("register's client: the handler's logs are at the receiver when the invocation resolves", async () => {
    const node = spawnNode([...preload(format), ...appArgs('with-register', format)], { env: registerEnv(), timeoutMs: SPAWN_TIMEOUT_MS });
    await node.waitForLine('resolved');
    // Looked at once the invocation has resolved, without waiting: the app is still running, with
    // no interval flush, so only the wrapper's flush can have sent them.
    const atResolution = sent();
    node.child.kill('SIGTERM');
    const result = await node.result;
    expect(result.stdout, describeResult(result)).toContain('resolved {"statusCode":200,"id":"e-1"}');
    expect(atResolution).toEqual([
      ['info', 'handling e-1 for req-1', 'fn'],
      ['warn', 'via otel api', 'fn'],
    ]);
    expect(receiver.accepted).toHaveLength(2); // exit sent nothing twice
  });

  it("register's client: the handler's error is rethrown unchanged, after its logs are delivered", async () => {
    const node = spawnNode([...preload(format), ...appArgs('rethrow-register', format)], { env: registerEnv(), timeoutMs: SPAWN_TIMEOUT_MS });
    await node.waitForLine('rejected');
    const atRejection = sent();
    node.child.kill('SIGTERM');
    const result = await node.result;
    expect(result.stdout, describeResult(result)).toContain('rejected {"same":true,"code":"E_ORDER","message":"no such order"}');
    expect(atRejection).toEqual([['error', 'about to fail', 'fn']]);
  });

  it("createAstralog's client (main entry) wrapped by the lambda entry", async () => {
    const env = cleanEnv({ E2E_KEY: TEST_KEY, E2E_URL: receiver.url });
    const node = spawnNode([...appArgs('with-client', format)], { env, timeoutMs: SPAWN_TIMEOUT_MS });
    await node.waitForLine('resolved');
    const atResolution = sent();
    node.child.kill('SIGTERM');
    const result = await node.result;
    expect(result.stdout, describeResult(result)).toContain('resolved "ok e-2"');
    expect(atResolution).toEqual([['info', 'client handling e-2', 'fn']]);
  });

  it('no client and no register: AstralogConfigError at wrap time, naming the client option and register', async () => {
    const result = await runApp([...appArgs('no-client', format)], { env: cleanEnv(), timeoutMs: SPAWN_TIMEOUT_MS });
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout).not.toContain('wrapped');
    const error = JSON.parse(result.stdout.trim()) as { name: string; code: string; option: string; message: string };
    expect(error).toMatchObject({ name: 'AstralogConfigError', code: 'ASTRALOG_CONFIG', option: 'client' });
    expect(error.message).toContain('@astralog/otel/register');
  });

  it('register loaded without a key: the handler runs as without the wrapper, nothing sent', async () => {
    const env = cleanEnv({ ASTRALOG_ENDPOINT: receiver.url });
    const result = await runApp([...preload(format), ...appArgs('register-off', format)], { env, timeoutMs: SPAWN_TIMEOUT_MS });
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout).toBe('result 42\n');
    const own = ownLines(result.stderr);
    expect(own, result.stderr).toHaveLength(1); // register's own line about the key, nothing from the wrapper
    expect(own[0]).toContain('ASTRALOG_API_KEY');
    expect(receiver.requests).toHaveLength(0);
  });
});
