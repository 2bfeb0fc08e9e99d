import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, ownLines, spawnNode, type AppDir, type SpawnedNode } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { useReceiver } from '../support/client-fixture.ts';
import { DIST_ESM, type ProcessResult } from '../support/spawn.ts';

// Correlation without a tracer: `node --import @astralog/otel/register server.mjs` (nothing else), real
// HTTP requests carrying W3C traceparent headers, the events checked at a real receiver. Then a
// NodeSDK with HTTP instrumentation started by the app after register: its spans win.

const REGISTER = '@astralog/otel/register';
const SPAWN_TIMEOUT_MS = 30_000;

interface SentEvent {
  message: string;
  trace_id?: string;
  metadata?: Record<string, unknown>;
}

const traceIdOf = (n: number): string => n.toString(16).padStart(32, 'a');
const spanIdOf = (n: number): string => n.toString(16).padStart(16, 'b');
const traceparentOf = (n: number): string => `00-${traceIdOf(n)}-${spanIdOf(n)}-01`;

/** Requests to /n log through console across a timer, an await and setImmediate, and through the OTel Logs API; /close ends the server. */
const SERVER = `import http from 'node:http';
import { logs } from '@opentelemetry/api';
let connections = 0;
const logger = logs.getLogger('app');
const server = http.createServer(async (req, res) => {
  const n = req.url.slice(1);
  if (n === 'close') {
    res.end('bye', () => {
      process.stdout.write('connections ' + connections + '\\n');
      server.close();
      server.closeAllConnections();
    });
    return;
  }
  console.log('request ' + n + ' start');
  await new Promise((resolve) => setTimeout(resolve, 1));
  console.info('request ' + n + ' after timer');
  await Promise.resolve();
  logger.emit({ body: 'request ' + n + ' otel api', severityText: 'INFO' });
  setImmediate(() => {
    console.warn('request ' + n + ' in immediate');
    res.end('ok ' + n);
  });
});
server.on('connection', () => connections++);
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;
const STEPS = ['start', 'after timer', 'otel api', 'in immediate'];

/**
 * CommonJS, so the HTTP instrumentation patches node:http when it is required. NodeSDK starts after
 * register (which then saw no tracer provider); each answer says the server span's ids.
 */
const TRACED_SERVER = `const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { InMemorySpanExporter } = require('@opentelemetry/sdk-trace');
const { trace } = require('@opentelemetry/api');
// NodeSDK's own metrics and logs exporters would post to localhost:4318 (retrying on shutdown); register has read its environment already.
process.env.OTEL_METRICS_EXPORTER = 'none';
process.env.OTEL_LOGS_EXPORTER = 'none';
const sdk = new NodeSDK({ serviceName: 'x', traceExporter: new InMemorySpanExporter(), instrumentations: [new HttpInstrumentation()] });
sdk.start();
const http = require('node:http');
const server = http.createServer((req, res) => {
  const n = req.url.slice(1);
  if (n === 'close') {
    res.end('bye', () => {
      server.close();
      server.closeAllConnections();
      sdk.shutdown();
    });
    return;
  }
  const { traceId, spanId } = trace.getActiveSpan().spanContext();
  console.log('traced ' + n + ' start');
  setTimeout(() => {
    console.log('traced ' + n + ' later');
    res.end(JSON.stringify({ traceId, spanId }));
  }, 1);
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;

/** The client API alone (no register): createAstralog registers the context manager, and so binds incoming traceparent headers too. */
const CLIENT_SERVER = `import http from 'node:http';
import { createAstralog } from ${JSON.stringify(DIST_ESM)};
const log = createAstralog({});
const server = http.createServer((req, res) => {
  const n = req.url.slice(1);
  if (n === 'close') {
    res.end('bye', async () => {
      server.close();
      server.closeAllConnections();
      await log.close();
    });
    return;
  }
  log.info('client ' + n + ' start');
  setTimeout(() => {
    log.withContext({ step: 'later' }, () => log.info('client ' + n + ' later'));
    res.end('ok');
  }, 1);
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;

/** Registers a tracer provider before register loads (NodeSDK's context manager too). */
const SDK_FIRST = `import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
new NodeSDK({ serviceName: 'x', traceExporter: new InMemorySpanExporter() }).start();
`;

let apps: AppDir;
beforeAll(() => {
  apps = makeAppDir();
  apps.write('server.mjs', SERVER);
  apps.write('traced-server.cjs', TRACED_SERVER);
  apps.write('sdk-first.mjs', SDK_FIRST);
  apps.write('client-server.mjs', CLIENT_SERVER);
  apps.write('quick.mjs', `console.log('hello');\n`);
});
afterAll(() => {
  apps?.remove();
});

const perTest = useReceiver();

const env = (): NodeJS.ProcessEnv => cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: perTest.receiver.url, ASTRALOG_SERVICE: 'e2e-app' });

interface RunningServer {
  node: SpawnedNode;
  port: number;
}

async function startServer(app: string, preload: string[]): Promise<RunningServer> {
  const node = spawnNode([...preload, `${apps.dir}/${app}`], { env: env(), timeoutMs: SPAWN_TIMEOUT_MS });
  await node.waitForLine(/listening \d+\n/, SPAWN_TIMEOUT_MS);
  const port = Number(/listening (\d+)\n/.exec(node.stdout())?.[1]);
  return { node, port };
}

/** GET /path; resolves with the answer's body. */
function get(port: number, path: string, headers: Record<string, string> = {}, agent: Agent | false = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Asks the server to end, and waits for the process to end (register delivers on the way out). */
async function stopServer(server: RunningServer): Promise<ProcessResult> {
  await get(server.port, '/close');
  const result = await server.node.result;
  expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 0, signal: null });
  return result;
}

const sent = (): SentEvent[] => perTest.receiver.accepted as SentEvent[];

/** The events of request n, by message step. */
function eventsOf(prefix: string, n: number): SentEvent[] {
  return sent().filter((e) => e.message.startsWith(`${prefix} ${n} `));
}

describe('register alone, an HTTP server: incoming traceparent headers correlate', () => {
  it('says so on start', async () => {
    const node = spawnNode(['--import', REGISTER, `${apps.dir}/quick.mjs`], { env: env(), timeoutMs: SPAWN_TIMEOUT_MS });
    const result = await node.result;
    const own = ownLines(result.stderr);
    expect(own, result.stderr).toHaveLength(1);
    expect(own[0]).toContain('trace correlation from incoming traceparent headers (no tracer provider registered yet; once one is, from its spans)');
  });

  it('says spans when a tracer provider is registered before register loads', async () => {
    const node = spawnNode(['--import', `${apps.dir}/sdk-first.mjs`, '--import', REGISTER, `${apps.dir}/quick.mjs`], { env: env(), timeoutMs: SPAWN_TIMEOUT_MS });
    const result = await node.result;
    const own = ownLines(result.stderr).filter((l) => l.includes('sending logs to'));
    expect(own, result.stderr).toHaveLength(1);
    expect(own[0]).toContain('trace correlation from spans (a tracer provider is registered)');
  });

  it('says not yet, and what to do, when the app registered its own context manager and no tracer provider', async () => {
    const own = apps.write(
      'own-context-manager.mjs',
      `import { context } from '@opentelemetry/api';
       import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
       context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());`,
    );
    const node = spawnNode(['--import', own, '--import', REGISTER, `${apps.dir}/quick.mjs`], { env: env(), timeoutMs: SPAWN_TIMEOUT_MS });
    const result = await node.result;
    const line = ownLines(result.stderr).find((l) => l.includes('sending logs to'));
    expect(line, result.stderr).toContain('trace correlation not yet: no tracer provider is registered');
    expect(line).toContain('load @astralog/otel/register before the code that registers a context manager');
  });

  it('says off, and why, when another @opentelemetry/api version owns the globals; logs still arrive', async () => {
    // What an older API copy (1.9) leaves when it registered anything before register loads.
    const older = apps.write('older-api.cjs', `globalThis[Symbol.for('opentelemetry.js.api.1')] = { version: '1.9.0' };`);
    const before = sent().length;
    const node = spawnNode(['--require', older, '--import', REGISTER, `${apps.dir}/quick.mjs`], { env: env(), timeoutMs: SPAWN_TIMEOUT_MS });
    const result = await node.result;
    expect(result.code, result.stderr).toBe(0);
    const own = ownLines(result.stderr);
    expect(own.find((l) => l.includes('sending logs to')), result.stderr).toContain('trace correlation off: another @opentelemetry/api version owns the OpenTelemetry globals');
    expect(own.filter((l) => l.includes('could not register a context manager')), result.stderr).toHaveLength(1);
    expect(sent().length).toBeGreaterThan(before);
  });

  it("puts a request's trace id and parent span id on every event of its handler; none on a request without", async () => {
    const server = await startServer('server.mjs', ['--import', REGISTER]);
    await get(server.port, '/1', { traceparent: traceparentOf(1) });
    await get(server.port, '/2');
    await stopServer(server);
    await perTest.receiver.waitForEvents(2 * STEPS.length);

    const traced = eventsOf('request', 1);
    expect(traced.map((e) => e.message).sort()).toEqual(STEPS.map((s) => `request 1 ${s}`).sort());
    for (const e of traced) {
      expect(e.trace_id, e.message).toBe(traceIdOf(1));
      expect(e.metadata?.parent_span_id, e.message).toBe(spanIdOf(1));
      expect(e.metadata !== undefined && 'span_id' in e.metadata, e.message).toBe(false); // the caller's span, not one of this service
    }
    const untraced = eventsOf('request', 2);
    expect(untraced).toHaveLength(STEPS.length);
    for (const e of untraced) {
      expect('trace_id' in e, e.message).toBe(false);
      expect(e.metadata !== undefined && 'parent_span_id' in e.metadata, e.message).toBe(false);
    }
  });

  it('60 concurrent requests over a few keep-alive connections: each event carries its own request trace, none mixed, missing or duplicated', async () => {
    const server = await startServer('server.mjs', ['--import', REGISTER]);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    // 80 requests: every 4th without a traceparent, so connections also carry untraced requests after traced ones.
    const numbers = Array.from({ length: 80 }, (_, i) => i + 1);
    const traced = (n: number): boolean => n % 4 !== 0;
    try {
      const answers = await Promise.all(numbers.map((n) => get(server.port, `/${n}`, traced(n) ? { traceparent: traceparentOf(n) } : {}, agent)));
      expect(answers).toEqual(numbers.map((n) => `ok ${n}`));
    } finally {
      agent.destroy();
    }
    const result = await stopServer(server);
    const connections = Number(/connections (\d+)/.exec(result.stdout)?.[1]);
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(5); // 4 for the 80 requests (so each carried several), 1 for /close

    await perTest.receiver.waitForEvents(numbers.length * STEPS.length);
    expect(sent()).toHaveLength(numbers.length * STEPS.length);
    expect(numbers.filter(traced)).toHaveLength(60);
    for (const n of numbers) {
      const events = eventsOf('request', n);
      expect(events.map((e) => e.message).sort(), `request ${n}`).toEqual(STEPS.map((s) => `request ${n} ${s}`).sort());
      for (const e of events) {
        if (traced(n)) {
          expect({ trace_id: e.trace_id, parent: e.metadata?.parent_span_id }, e.message).toEqual({ trace_id: traceIdOf(n), parent: spanIdOf(n) });
        } else {
          expect({ trace_id: e.trace_id, parent: e.metadata?.parent_span_id }, e.message).toEqual({ trace_id: undefined, parent: undefined });
        }
      }
    }
  });
});

describe('createAstralog alone (no register)', () => {
  it('binds incoming traceparent headers too: its events carry the trace id and parent span id', async () => {
    const server = await startServer('client-server.mjs', []);
    await get(server.port, '/1', { traceparent: traceparentOf(1) });
    await get(server.port, '/2');
    await stopServer(server);
    await perTest.receiver.waitForEvents(4);
    const traced = eventsOf('client', 1);
    expect(traced.map((e) => [e.message, e.trace_id, e.metadata?.parent_span_id]).sort()).toEqual([
      ['client 1 later', traceIdOf(1), spanIdOf(1)],
      ['client 1 start', traceIdOf(1), spanIdOf(1)],
    ]);
    expect(eventsOf('client', 2).map((e) => [e.message, e.trace_id, e.metadata?.parent_span_id]).sort()).toEqual([
      ['client 2 later', undefined, undefined],
      ['client 2 start', undefined, undefined],
    ]);
  });
});

describe('a tracer provider registered after register (NodeSDK with HTTP instrumentation)', () => {
  it("takes over: events carry the server span's trace id and span id, not the caller's span", async () => {
    const server = await startServer('traced-server.cjs', ['--require', REGISTER]);
    expect(ownLines(server.node.stderr()).join('\n')).toContain('trace correlation from incoming traceparent headers');
    const answer = JSON.parse(await get(server.port, '/1', { traceparent: traceparentOf(1) })) as { traceId: string; spanId: string };
    await stopServer(server);
    await perTest.receiver.waitForEvents(2);

    expect(answer.traceId).toBe(traceIdOf(1)); // the instrumentation continued the caller's trace
    expect(answer.spanId).not.toBe(spanIdOf(1));
    const events = eventsOf('traced', 1);
    expect(events.map((e) => e.message).sort()).toEqual(['traced 1 later', 'traced 1 start']);
    for (const e of events) {
      expect(e.trace_id, e.message).toBe(answer.traceId);
      expect(e.metadata?.span_id, e.message).toBe(answer.spanId);
      expect(e.metadata !== undefined && 'parent_span_id' in e.metadata, e.message).toBe(false);
    }
  });
});
