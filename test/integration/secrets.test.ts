import { diag, DiagLogLevel } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { AstralogBatchLogRecordProcessor, AstralogConfigError, AstralogLogRecordExporter, createAstralog } from '../../src/index.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { startProxy } from '../support/proxy.ts';
import { captureStderr, exportOnce } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { makeRecords } from '../support/records.ts';

// A key no test output may contain, nor its distinctive middle.
const SECRET = 'ast_sk_live_S3CR3T7VALUE0123456789';
const FRAGMENT = 'S3CR3T7VALUE';
const PROXY_PASSWORD = 'Pr0xyPa55w0rd';

let receiver: Receiver;
let stderr: ReturnType<typeof captureStderr>;
const diagnostics: string[] = [];

beforeEach(async () => {
  receiver = await startReceiver({ apiKey: SECRET });
  stderr = captureStderr();
  diagnostics.length = 0;
  const capture = (...args: unknown[]) => diagnostics.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(' '));
  diag.setLogger({ error: capture, warn: capture, info: capture, debug: capture, verbose: capture }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
});
afterEach(async () => {
  diag.disable();
  stderr.restore();
  await receiver.close();
});

function everythingSaid(extra: unknown[]): string {
  return [...stderr.lines(), ...diagnostics, ...extra.map((e) => (e instanceof Error ? `${e.name} ${e.message} ${e.stack} ${JSON.stringify(e)}` : JSON.stringify(e)))].join('\n');
}

describe('the API key never leaks', () => {
  it('not through errors, diagnostics, stats or events, whatever the transport does', async () => {
    const results: unknown[] = [];
    // 1. Refused connections, retried until the budget ends.
    const closedUrl = receiver.url;
    await receiver.close();
    const refused = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: closedUrl, exportTimeoutMs: 300 });
    results.push((await exportOnce(refused, makeRecords(2))).error, refused.stats());
    await refused.shutdown();

    // 2. A black hole: timeouts.  3. 401.  4. 5xx until the budget ends.
    receiver = await startReceiver({ apiKey: SECRET });
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const hole = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: receiver.url, exportTimeoutMs: 200 });
    results.push((await exportOnce(hole, makeRecords(2))).error, hole.stats());
    await hole.shutdown();
    receiver.setBehaviour(() => ({ kind: 'accept' }));
    receiver.setApiKey('another-key');
    const refusedKey = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: receiver.url });
    results.push((await exportOnce(refusedKey, makeRecords(2))).error, refusedKey.stats());
    await refusedKey.shutdown();
    receiver.setApiKey(SECRET);
    receiver.setBehaviour(() => ({ kind: 'status', status: 503 }));
    const flapping = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: receiver.url, exportTimeoutMs: 400 });
    const processor = new AstralogBatchLogRecordProcessor({ exporter: flapping, maxQueueSize: 5, maxBatchSize: 5 });
    for (const r of makeRecords(8)) processor.onEmit(r);
    await processor.forceFlush();
    results.push(processor.stats(), flapping.stats());
    await processor.shutdown();

    // 5. The client, with the key as metadata under sensitive names and a drop summary sent.
    receiver.setBehaviour(() => ({ kind: 'accept' }));
    const acceptedBefore = receiver.accepted.length;
    const log = createAstralog({ apiKey: SECRET, endpoint: receiver.url, maxQueueSize: 3, maxBatchSize: 3 });
    for (let i = 0; i < 5; i++) log.info('call', { authorization: `Bearer ${SECRET}`, api_key: SECRET, headers: { 'x-api-key': SECRET } });
    await log.flush();
    await receiver.waitForEvents(acceptedBefore + 4); // the 3 kept calls and the summary of the 2 dropped
    await log.close();
    results.push(log.stats(), receiver.accepted);

    // 6. Bad keys at construction.
    for (const apiKey of [`${SECRET}\r\nX-Injected: 1`, `${SECRET} `, `${SECRET}é`]) {
      try {
        new AstralogLogRecordExporter({ apiKey, endpoint: receiver.url });
      } catch (error) {
        expect(error).toBeInstanceOf(AstralogConfigError);
        results.push(error);
      }
    }

    const said = everythingSaid(results);
    expect(said.length).toBeGreaterThan(1000); // we did capture a lot: the check below is not vacuous
    expect(said).toContain('refused the API key');
    expect(said).not.toContain(FRAGMENT);
    expect(receiver.accepted.length).toBeGreaterThan(0);
    expect(JSON.stringify(receiver.accepted)).toContain('[REDACTED]');
  });

  it('not when a server or a proxy echoes the request headers in an error body', async () => {
    // Answers each POST with `status` and, as its body, every header it received (some WAFs and debug proxies do).
    const statuses = [404, 400, 302, 405, 503];
    let next = 0;
    const echo = createServer((req, res) => {
      req.resume();
      const status = statuses[next++ % statuses.length] as number;
      const body = `${req.method} ${req.url}\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}`;
      req.on('end', () => res.writeHead(status, { 'content-type': 'text/plain', ...(status === 302 ? { location: '/elsewhere' } : {}) }).end(body));
    });
    const port = await listenOnLoopback(echo);
    const proxy = await startProxy({ user: 'bob', password: PROXY_PASSWORD });
    const results: unknown[] = [];
    try {
      for (const viaProxy of [false, true]) {
        for (let i = 0; i < statuses.length; i++) {
          const exporter = new AstralogLogRecordExporter({
            apiKey: SECRET,
            endpoint: viaProxy ? `http://ingest.test:${port}` : `http://127.0.0.1:${port}`,
            allowInsecureHttp: true,
            exportTimeoutMs: 300,
            ...(viaProxy ? { proxy: `http://bob:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}` } : {}),
          });
          results.push((await exportOnce(exporter, makeRecords(1))).error, exporter.stats());
          await exporter.shutdown();
        }
      }
    } finally {
      echo.close();
      await proxy.close();
    }
    const said = everythingSaid(results);
    expect(said).toMatch(/answered HTTP 404/); // the echoed bodies were printed: the check below is not vacuous
    expect(said).toContain('[REDACTED]');
    expect(said).not.toContain(FRAGMENT);
    expect(said).not.toContain(PROXY_PASSWORD);
    expect(said).not.toContain(Buffer.from(`bob:${PROXY_PASSWORD}`).toString('base64'));
  });

  it('not in the error about an option that holds the key by mistake', () => {
    let error: unknown;
    try {
      new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: SECRET });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AstralogConfigError);
    expect((error as Error).message).toMatch(/^endpoint: '\[REDACTED\]' is not a valid URL/);
  });

  it('nor through the metadata option: its sensitive fields are redacted like a call\'s own', async () => {
    const log = createAstralog({ apiKey: SECRET, endpoint: receiver.url, metadata: { region: 'eu-1', db_password: 'hunter2', api_key: SECRET } });
    log.info('with static metadata');
    await log.close();
    expect(receiver.accepted).toMatchObject([{ metadata: { region: 'eu-1', db_password: '[REDACTED]', api_key: '[REDACTED]' } }]);
  });
});
