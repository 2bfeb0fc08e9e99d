import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, ownLines, runApp, spawnNode, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { ROOT } from '../support/spawn.ts';

// Register loads what the first record needs and defers the rest (README, "Start-up"): a hello-world
// loads none of OpenTelemetry but the Logs and Context API's own modules (no API index, no core,
// resources, Logs SDK or context-async-hooks); each of those loads when something first needs it.
// The apps live outside the repository, in a folder whose node_modules links only @astralog/otel,
// @opentelemetry/api and the Logs SDK, as in a user's app that installed the package (without NodeSDK).

let app: string;
let apps: AppDir; // in the repository: the apps that use its development packages
let receiver: Receiver;
beforeAll(async () => {
  apps = makeAppDir();
  app = mkdtempSync(join(tmpdir(), 'astralog-loading-'));
  mkdirSync(join(app, 'node_modules', '@astralog'), { recursive: true });
  mkdirSync(join(app, 'node_modules', '@opentelemetry'), { recursive: true });
  symlinkSync(ROOT, join(app, 'node_modules', '@astralog', 'otel'), 'dir');
  for (const name of ['api', 'sdk-logs']) symlinkSync(join(ROOT, 'node_modules', '@opentelemetry', name), join(app, 'node_modules', '@opentelemetry', name), 'dir');
  for (const name of ['winston', 'winston-transport']) symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), 'dir');
  // Says which OpenTelemetry files were loaded (CommonJS: register's set-up loads them so), on stdout at exit.
  writeFileSync(
    join(app, 'loaded.cjs'),
    `process.on('exit', () => process.stdout.write('LOADED ' + JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('@opentelemetry')).map((f) => f.slice(f.indexOf('@opentelemetry')))) + '\\n'));\n`,
  );
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterAll(async () => {
  apps.remove();
  await receiver.close();
  rmSync(app, { recursive: true, force: true });
});

/** Runs an app under register; `events` are what the receiver accepted while it ran. */
async function runUnderRegister(name: string, source: string, dir = app): Promise<{ loaded: string[]; stderr: string; events: unknown[] }> {
  const before = receiver.accepted.length;
  writeFileSync(join(dir, name), source);
  const run = await runApp(['--require', join(app, 'loaded.cjs'), '--import', '@astralog/otel/register', name], {
    env: cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_SERVICE: 'loading' }),
    cwd: dir,
  });
  expect(run.code, run.stderr).toBe(0);
  const line = run.stdout.split('\n').find((l) => l.startsWith('LOADED '));
  return { loaded: JSON.parse(line?.slice('LOADED '.length) ?? 'null') as string[], stderr: run.stderr, events: receiver.accepted.slice(before) };
}

const packagesOf = (files: string[]) => [...new Set(files.map((f) => f.split('/').slice(0, 2).join('/')))].sort();

/** What a hello-world loads of OpenTelemetry: the API's Logs and Context modules, not its index. */
function expectOnlyLogsAndContextApis(loaded: string[]): void {
  expect(packagesOf(loaded)).toEqual(['@opentelemetry/api']);
  expect(loaded).toContain('@opentelemetry/api/dist/api/logs.cjs');
  expect(loaded).toContain('@opentelemetry/api/dist/api/context.cjs');
  expect(loaded).not.toContain('@opentelemetry/api/dist/index.cjs');
}

describe('what register loads', () => {
  it("a hello-world: none of OpenTelemetry but the API's Logs and Context modules, and its line arrives", async () => {
    const { loaded, events } = await runUnderRegister('hello.mjs', "console.log('hello');\n");
    expect(events).toMatchObject([{ message: 'hello', service: 'loading' }]);
    expectOnlyLogsAndContextApis(loaded);
  });

  it('a winston app (@astralog/otel/winston): no more than the hello-world; its lines arrive with their metadata', async () => {
    const { loaded, events } = await runUnderRegister(
      'winston-app.cjs',
      "const winston = require('winston');\n" +
        "const { AstralogTransport } = require('@astralog/otel/winston');\n" +
        "const logger = winston.createLogger({ transports: [new AstralogTransport()] });\n" +
        "logger.warn('through winston', { user: 'u1' });\n",
    );
    expect(events).toMatchObject([{ message: 'through winston', level: 'warn', service: 'loading', metadata: { user: 'u1' } }]);
    expectOnlyLogsAndContextApis(loaded);
  });

  it('the Logs SDK when the app first asks the OpenTelemetry Logs API for a logger; its records arrive', async () => {
    const { loaded, events } = await runUnderRegister(
      'otel-api.cjs',
      "const { logs } = require('@opentelemetry/api');\nlogs.getLogger('app').emit({ body: 'via the logs api', severityText: 'WARN' });\n",
    );
    expect(events).toMatchObject([{ message: 'via the logs api', level: 'warn', service: 'loading' }]);
    expect(packagesOf(loaded)).toContain('@opentelemetry/sdk-logs');
  });

  it('context-async-hooks (and the whole API) when a context is first entered; logs inside it, across an await, carry its span', async () => {
    const { loaded, events } = await runUnderRegister(
      'with-context.mjs',
      "import { context, trace } from '@opentelemetry/api';\n" +
        "console.log('outside');\n" +
        "const span = trace.setSpanContext(context.active(), { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 });\n" +
        "await context.with(span, async () => { await new Promise((r) => setTimeout(r, 1)); console.log('inside'); });\n",
    );
    expect((events as Array<{ message: string; trace_id?: string }>).map((e) => [e.message, e.trace_id])).toEqual([
      ['outside', undefined],
      ['inside', 'a'.repeat(32)],
    ]);
    expect(packagesOf(loaded)).toContain('@opentelemetry/context-async-hooks');
    expect(packagesOf(loaded)).not.toContain('@opentelemetry/sdk-logs');
  });

  it("the global logger provider's forceFlush and shutdown are the Logs SDK's: what is logged after shutdown is dropped and said", async () => {
    const { stderr, events } = await runUnderRegister(
      'provider-shutdown.mjs',
      "import { logs } from '@opentelemetry/api';\n" +
        "console.log('before');\n" +
        'await logs.getLoggerProvider().forceFlush();\n' +
        'await logs.getLoggerProvider().shutdown();\n' +
        "console.log('after shutdown');\n",
    );
    expect(events.map((e) => (e as { message: string }).message)).toEqual(['before']);
    expect(ownLines(stderr).filter((l) => l.includes('dropped 1 log record(s): 1 shutdown'))).toHaveLength(1);
  });

  it("the ESM Logs API, where the app depends on OpenTelemetry: a logger provider it registers after register is said", async () => {
    // An app of its own (its package.json names @opentelemetry/sdk-logs), no NodeSDK anywhere.
    const own = join(app, 'own-provider');
    mkdirSync(own);
    symlinkSync(join(app, 'node_modules'), join(own, 'node_modules'), 'dir');
    writeFileSync(join(own, 'package.json'), JSON.stringify({ name: 'own-provider', type: 'module', dependencies: { '@opentelemetry/sdk-logs': '^3.1.0' } }));
    const { stderr } = await runUnderRegister(
      'main.mjs',
      "import { logs } from '@opentelemetry/api';\nimport { LoggerProvider } from '@opentelemetry/sdk-logs';\nlogs.setGlobalLoggerProvider(new LoggerProvider());\n",
      own,
    );
    expect(ownLines(stderr).filter((l) => l.includes('tried to register its own logger provider after @astralog/otel/register')), stderr).toHaveLength(1);
  });

  it('its exports stay untraced (no span, no traceparent header) under an http instrumentation whose tracer provider is not the global one', async () => {
    const before = receiver.requests.length;
    const run = await runApp(
      [
        '--require',
        '@astralog/otel/register',
        apps.write(
          'own-tracer.cjs',
          `const { propagation } = require('@opentelemetry/api');
           const { W3CTraceContextPropagator } = require('@opentelemetry/core');
           const { TracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace');
           const { registerInstrumentations } = require('@opentelemetry/instrumentation');
           const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
           const spans = new InMemorySpanExporter();
           propagation.setGlobalPropagator(new W3CTraceContextPropagator());
           registerInstrumentations({ instrumentations: [new HttpInstrumentation()], tracerProvider: new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }) });
           require('node:http');
           console.log('job line 1');
           setTimeout(() => console.log('job line 2'), 300);
           process.on('exit', () => process.stdout.write('SPANS ' + JSON.stringify(spans.getFinishedSpans().map((s) => s.name)) + '\\n'));`,
        ),
      ],
      { env: cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_FLUSH_INTERVAL_MS: '100', ASTRALOG_QUIET: 'true' }) },
    );
    expect(run.code, run.stderr).toBe(0);
    const requests = receiver.requests.slice(before);
    expect(requests.length, run.stderr).toBeGreaterThanOrEqual(2); // exports while it ran, not only at exit
    expect(requests.map((r) => r.headers.traceparent)).toEqual(requests.map(() => undefined));
    expect(run.stdout).toContain('SPANS []');
  });

  it("a server: what a traced request needs is loaded once it listens, before its first request, not during it", async () => {
    writeFileSync(
      join(app, 'server.mjs'),
      `import http from 'node:http';
       import { createRequire } from 'node:module';
       const cache = createRequire(import.meta.url).cache;
       const server = http.createServer((req, res) => {
         // What was loaded when this first request (without any traceparent) came in.
         res.end(JSON.stringify(Object.keys(cache).filter((f) => f.includes('@opentelemetry')).map((f) => f.slice(f.indexOf('@opentelemetry')))));
       });
       server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));`,
    );
    const node = spawnNode(['--import', '@astralog/otel/register', 'server.mjs'], {
      env: cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_QUIET: 'true' }),
      cwd: app,
    });
    await node.waitForLine(/PORT \d+/);
    const port = Number(/PORT (\d+)/.exec(node.stdout())?.[1]);
    const loaded = await new Promise<string[]>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(JSON.parse(body) as string[]));
      }).on('error', reject);
    });
    node.child.kill('SIGTERM');
    await node.result;
    expect(packagesOf(loaded)).toEqual(expect.arrayContaining(['@opentelemetry/context-async-hooks', '@opentelemetry/core']));
  });

  it('a port probe (a net server with no request listener, as get-port or the cluster primary make) loads none of that', async () => {
    const { loaded } = await runUnderRegister(
      'probe.mjs',
      "import net from 'node:net';\n" +
        'const server = net.createServer();\n' +
        "await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));\n" +
        'await new Promise((resolve) => setImmediate(resolve));\n' +
        'server.close();\n' +
        "console.log('probed');\n",
    );
    expect(packagesOf(loaded)).toEqual(['@opentelemetry/api']);
  });
});
