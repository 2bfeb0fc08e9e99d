import { Agent, get } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, ownLines, runApp, spawnNode, withoutOwnLines, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import {
  BASIC_LINES, INSTRUMENTED_LINES, TRACE_LINE, basicApp, ext, instrumentation, instrumentedApp, linesFor, serverApp,
  type ClientSource, type Format, type Library,
} from '../support/logging-apps.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import type { ProcessResult } from '../support/spawn.ts';

// pino (10 and 9) and winston apps in real processes, ESM and CommonJS, loading the built package
// (cwd is the repository root, so `@astralog/otel/…` resolves by self-reference to dist/), against
// a real receiver. What arrives is compared with what was logged, exactly.

const REGISTER = '@astralog/otel/register';
const SPAWN_TIMEOUT_MS = 15_000;
const FORMATS: Format[] = ['ESM', 'CJS'];
const preload = (format: Format, file: string): string[] => (format === 'ESM' ? ['--import', file] : ['--require', file]);

interface SentEvent {
  level: string;
  message: string;
  service: string;
  trace_id?: string;
  metadata?: Record<string, unknown>;
}

let apps: AppDir;
beforeAll(() => {
  apps = makeAppDir();
  for (const format of FORMATS) {
    for (const library of ['pino', 'pino9', 'winston'] as const) {
      for (const source of ['register', 'createAstralog'] as const) apps.write(`${library}-${source}.${ext(format)}`, basicApp(library, format, source));
    }
    for (const library of ['pino', 'winston'] as const) {
      apps.write(`instrument-${library}.${ext(format)}`, instrumentation(library, format));
      apps.write(`instrumented-${library}.${ext(format)}`, instrumentedApp(library, format));
      apps.write(`server-${library}.${ext(format)}`, serverApp(library, format));
    }
  }
});
afterAll(() => apps?.remove());

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterEach(async () => {
  await receiver.close();
});

const appPath = (name: string): string => `${apps.dir}/${name}`;
const sent = (): SentEvent[] => receiver.accepted as SentEvent[];

/** Register's environment, with a service name that tells the apps of one test apart. */
function registerEnv(service: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_SERVICE: service, ...extra });
}

const describeResult = (r: ProcessResult): string =>
  `code=${r.code} signal=${r.signal} (${r.durationMs} ms)\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

/** Ended on its own, with nothing on stderr but (under register) register's own line. */
function expectCleanExit(result: ProcessResult): void {
  expect(result.code, describeResult(result)).toBe(0);
  expect(withoutOwnLines(result.stderr).trim(), describeResult(result)).toBe('');
  expect(ownLines(result.stderr).every((line) => line.includes('sending logs to')), describeResult(result)).toBe(true);
}

function traceIdOf(result: ProcessResult): string {
  const match = TRACE_LINE.exec(result.stdout);
  if (match === null) throw new Error(`no TRACE line:\n${describeResult(result)}`);
  return match[1]!;
}

/** Each line arrived once, with its level, the span's trace id when logged inside it, and its metadata. */
function expectLines(events: SentEvent[], lines: Array<{ message: string; level: string; inSpan: boolean; metadata?: Record<string, unknown> }>, traceId: string): void {
  expect(events.map((e) => e.message).sort()).toEqual(lines.map((l) => l.message).sort());
  for (const line of lines) {
    const event = events.find((e) => e.message === line.message)!;
    expect(event.level, line.message).toBe(line.level);
    expect(event.trace_id, line.message).toBe(line.inSpan ? traceId : undefined);
    if (line.metadata !== undefined) expect(event.metadata, line.message).toMatchObject(line.metadata);
  }
}

describe.each(['pino', 'pino9', 'winston'] as const)('%s with our integration, no OpenTelemetry instrumentation', (library: Library) => {
  it.each(['register', 'createAstralog'] as const)('through %s: every line arrives once, correlated inside the span (ESM and CJS)', async (source: ClientSource) => {
    const service = (format: Format): string => `${library}-${source}-${format}`;
    const results = await Promise.all(
      FORMATS.map((format) => {
        const app = appPath(`${library}-${source}.${ext(format)}`);
        if (source === 'register') return runApp([...preload(format, REGISTER), app], { env: registerEnv(service(format)), timeoutMs: SPAWN_TIMEOUT_MS });
        const env = cleanEnv({ E2E_KEY: TEST_KEY, E2E_ENDPOINT: receiver.url, E2E_SERVICE: service(format) });
        return runApp([app], { env, timeoutMs: SPAWN_TIMEOUT_MS });
      }),
    );
    const lines = BASIC_LINES[library];
    await receiver.waitForEvents(lines.length * FORMATS.length, 10_000);
    expect(sent()).toHaveLength(lines.length * FORMATS.length);
    FORMATS.forEach((format, i) => {
      const result = results[i]!;
      expectCleanExit(result);
      if (source === 'createAstralog') expect(result.stdout).toContain('closed');
      // under register the app also logs to stdout (pino.multistream, winston's Console): still printed
      if (source === 'register') expect(result.stdout).toContain('inside warn');
      const traceId = traceIdOf(result);
      expectLines(sent().filter((e) => e.service === service(format)), lines, traceId);
    });
  });
});

describe.each(['pino', 'winston'] as const)('@opentelemetry/instrumentation-%s under register', (library) => {
  it("sends the library's records through the Logs API to register's provider, correlated (ESM and CJS)", async () => {
    const service = (format: Format): string => `instrumented-${library}-${format}`;
    const results = await Promise.all(
      FORMATS.map((format) =>
        runApp([...preload(format, REGISTER), ...preload(format, appPath(`instrument-${library}.${ext(format)}`)), appPath(`instrumented-${library}.${ext(format)}`)], {
          env: registerEnv(service(format)),
          timeoutMs: SPAWN_TIMEOUT_MS,
        }),
      ),
    );
    await receiver.waitForEvents(INSTRUMENTED_LINES.length * FORMATS.length, 10_000);
    expect(sent()).toHaveLength(INSTRUMENTED_LINES.length * FORMATS.length);
    FORMATS.forEach((format, i) => {
      const result = results[i]!;
      expectCleanExit(result);
      expect(result.stdout).toContain('inside warn'); // the library still prints
      const events = sent().filter((e) => e.service === service(format));
      expectLines(events, INSTRUMENTED_LINES, traceIdOf(result));
      expect(events.find((e) => e.message === 'inside')!.metadata).toMatchObject({ order_id: 'o-1' });
    });
  });
});

const REQUESTS = 60;

/** GET /work?id=… on a fresh connection; the answer's JSON. */
function request(port: number, id: number, agent: Agent): Promise<{ id: number; traceId: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: `/work?id=${id}`, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { id: number; traceId: string });
        } catch (error) {
          reject(error as Error);
        }
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe.each([
  ['pino', 'ESM'],
  ['winston', 'CJS'],
  ['pino', 'CJS'],
  ['winston', 'ESM'],
] as const)('an HTTP server logging through %s (%s) under register', (library, format) => {
  it(`${REQUESTS} concurrent requests, each in its own span: every line arrives once, with its own request's trace id`, async () => {
    const node = spawnNode([...preload(format, REGISTER), appPath(`server-${library}.${ext(format)}`)], {
      env: registerEnv(`server-${library}`, { E2E_REQUESTS: String(REQUESTS) }),
      timeoutMs: SPAWN_TIMEOUT_MS,
    });
    await node.waitForLine(/listening \d+/);
    const port = Number(/listening (\d+)/.exec(node.stdout())![1]);
    const agent = new Agent({ keepAlive: false });
    const answers = await Promise.all(Array.from({ length: REQUESTS }, (_, id) => request(port, id, agent)));
    const result = await node.result; // the server closes after its last answer; register flushes at exit
    expectCleanExit(result);

    const traceOf = new Map(answers.map((a) => [a.id, a.traceId]));
    expect(new Set(traceOf.values()).size).toBe(REQUESTS); // one trace per request
    const expected: string[] = [];
    for (let id = 0; id < REQUESTS; id++) {
      expected.push(`${id} ${traceOf.get(id)} request received -`);
      for (let step = 1; step < linesFor(id); step++) expected.push(`${id} ${traceOf.get(id)} step ${step}`);
    }
    await receiver.waitForEvents(expected.length, 10_000);
    const got = sent().map((e) => `${String(e.metadata?.request_id)} ${e.trace_id} ${e.message} ${String(e.metadata?.step ?? '-')}`);
    // same lines, once each, each with its own request's trace id
    expect(got.sort()).toEqual(expected.sort());
  });
});
