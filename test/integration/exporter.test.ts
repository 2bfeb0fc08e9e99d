import { createServer } from 'node:http';
import { ExportResultCode } from '@opentelemetry/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AstralogLogRecordExporter, PACKAGE_VERSION, type AstralogExporterOptions } from '../../src/index.ts';
import { captureStderr, exportOnce, TEST_KEY } from '../support/exporting.ts';
import { everyNth, sequence, startReceiver, type Behaviour, type Receiver } from '../support/receiver.ts';
import { listenOnLoopback } from '../support/listen.ts';
import type { EncodedEvent } from '../../src/exporter/encoded-event.ts';
import { PREPARE_EXPORT } from '../../src/protocol.ts';
import { makeRecords } from '../support/records.ts';

let receiver: Receiver;
let stderr: ReturnType<typeof captureStderr>;
const exporters: AstralogLogRecordExporter[] = [];

beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
  stderr = captureStderr();
});

afterEach(async () => {
  await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
  await receiver.close();
  stderr.restore();
});

function exporterFor(options: Partial<AstralogExporterOptions> = {}): AstralogLogRecordExporter {
  const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, ...options });
  exporters.push(exporter);
  return exporter;
}

type Event = { message: string; metadata: { seq: number } };
const seqs = () => (receiver.accepted as Event[]).map((e) => e.metadata.seq);

describe('delivery', () => {
  it('posts events to /v1/drain with the contract headers', async () => {
    const exporter = exporterFor({ projectId: 'org-xyz', headers: { 'X-Tenant': 'blue' } });
    const result = await exportOnce(exporter, makeRecords(3));
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    const [request] = receiver.requests;
    expect(request?.path).toBe('/v1/drain');
    expect(request?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe(`astralog-otel-js/${PACKAGE_VERSION} node/${process.version}`);
    expect(request?.headers['x-tenant']).toBe('blue');
    expect(receiver.accepted).toMatchObject([
      { message: 'event 0', service: 'checkout', project_id: 'org-xyz', metadata: { seq: 0 } },
      { message: 'event 1' },
      { message: 'event 2' },
    ]);
    expect(exporter.stats()).toMatchObject({ requests: 1, retries: 0, delivered: 3 });
  });

  it('reuses keep-alive connections across exports', async () => {
    const exporter = exporterFor();
    for (let i = 0; i < 10; i++) await exportOnce(exporter, makeRecords(2));
    expect(receiver.requests).toHaveLength(10);
    // a connection is freed one loop turn after its answer: an export started at once takes another
    expect(receiver.connectionsAccepted()).toBeLessThanOrEqual(2);
  });

  it('gzips the body when asked', async () => {
    const exporter = exporterFor({ compression: 'gzip' });
    expect((await exportOnce(exporter, makeRecords(50))).code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.requests[0]?.headers['content-encoding']).toBe('gzip');
    expect(receiver.requests[0]?.rawBody[0]).toBe(0x1f);
    expect(seqs()).toEqual([...Array(50).keys()]);
  });

  it('splits a batch over maxRequestBytes into several requests', async () => {
    const exporter = exporterFor({ maxRequestBytes: 16 * 1024, maxEventBytes: 4096 });
    const records = makeRecords(40, { attributes: { pad: 'p'.repeat(1500) } });
    expect((await exportOnce(exporter, records)).code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.requests.length).toBeGreaterThan(3);
    for (const r of receiver.requests) expect(r.rawBody.length).toBeLessThanOrEqual(16 * 1024);
    expect(seqs()).toEqual([...Array(40).keys()]);
  });

  it('keeps the encoded events of an export readable until its caller releases them, even after it ended', async () => {
    const exporter = exporterFor();
    const first = exporter[PREPARE_EXPORT](makeRecords(3));
    expect((await first.start()).delivered).toBe(3);
    // The export has ended; its buffer must not be reused while the caller still holds the events.
    await exporter.exportRecords(makeRecords(3, { body: 'another batch' }, 100));
    const again = [0, 1, 2].map((i) => first.encoded?.event(i) as EncodedEvent);
    first.encoded?.release();
    await exporter.exportRecords(again);
    const events = receiver.accepted as Event[];
    expect(events.slice(6).map((e) => e.metadata.seq)).toEqual([0, 1, 2]);
    expect(events.slice(6)).toEqual(events.slice(0, 3));
  });

  it('sends a batch holding a record that cannot even be inspected (a revoked Proxy): that one as a placeholder event', async () => {
    const exporter = exporterFor();
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const records = makeRecords(4);
    records.splice(2, 0, revoked.proxy as never);
    expect((await exporter.exportRecords(records)).delivered).toBe(5);
    const events = receiver.accepted as Event[];
    expect(events.map((e) => e.metadata.seq)).toEqual([0, 1, undefined, 2, 3]);
    expect(events[2]?.message).toMatch(/could not be encoded/);
  });
});

describe('retries', () => {
  it('delivers 1000 records exactly once through 503 on every third request', async () => {
    receiver.setBehaviour(everyNth(3, { kind: 'status', status: 503 }));
    const exporter = exporterFor();
    const batches = Array.from({ length: 10 }, (_, b) => makeRecords(100).map((r, i) => ({ ...r, attributes: { seq: b * 100 + i } })));
    const results = await Promise.all(batches.map((batch) => exportOnce(exporter, batch)));
    expect(results.every((r) => r.code === ExportResultCode.SUCCESS)).toBe(true);
    expect(seqs().sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
    const statuses = receiver.requests.map((r) => r.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(exporter.stats()).toMatchObject({ delivered: 1000, retries: statuses.filter((s) => s === 503).length });
  });

  it('honours Retry-After in seconds: two 429s, delivered once, each retry waited', async () => {
    const throttled: Behaviour = { kind: 'status', status: 429, headers: { 'retry-after': '1' } };
    receiver.setBehaviour(sequence(throttled, throttled));
    const exporter = exporterFor();
    const started = Date.now();
    expect((await exportOnce(exporter, makeRecords(5))).code).toBe(ExportResultCode.SUCCESS);
    const [a, b, c] = receiver.requests.map((r) => r.receivedAt);
    expect(receiver.requests.map((r) => r.status)).toEqual([429, 429, 202]);
    expect(b! - a!).toBeGreaterThanOrEqual(950);
    expect(c! - b!).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(seqs()).toEqual([0, 1, 2, 3, 4]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const when = new Date(Date.now() + 1500).toUTCString(); // second precision: waits 0.5-1.5 s
    receiver.setBehaviour(sequence({ kind: 'status', status: 503, headers: { 'retry-after': when } }));
    const exporter = exporterFor();
    expect((await exportOnce(exporter, makeRecords(1))).code).toBe(ExportResultCode.SUCCESS);
    const [a, b] = receiver.requests.map((r) => r.receivedAt);
    expect(b! - a!).toBeGreaterThanOrEqual(400);
  });

  it('gives up at once when Retry-After is beyond the time budget', async () => {
    receiver.setBehaviour(sequence({ kind: 'status', status: 429, headers: { 'retry-after': '30' } }));
    const exporter = exporterFor({ exportTimeoutMs: 2000 });
    const started = Date.now();
    const result = await exportOnce(exporter, makeRecords(2));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(Date.now() - started).toBeLessThan(1500); // did not wait the 2 s budget, let alone 30 s
    expect(exporter.stats().failed.retriesExhausted).toBe(2);
  });

  it.each([500, 502, 504, 408])('retries HTTP %i', async (status) => {
    receiver.setBehaviour(sequence({ kind: 'status', status }));
    const exporter = exporterFor();
    expect((await exportOnce(exporter, makeRecords(3))).code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.requests.map((r) => r.status)).toEqual([status, 202]);
  });

  // A proxy, WAF or broken server answers garbage, or the connection dies once the request was
  // written: the server may have stored it. The exporter does not send it again (a processor may,
  // once); a failure before anything was written (refused) is retried as before. Never a pause.
  it.each([
    ['a status line that is not HTTP', { kind: 'malformed' }],
    ['a 17 KB head', { kind: 'malformed', bytes: `HTTP/1.1 200 OK\r\nX-Waf: ${'a'.repeat(17_000)}\r\nContent-Length: 0\r\n\r\n` }],
    ['Content-Length: 2, 2', { kind: 'malformed', bytes: 'HTTP/1.1 202 Accepted\r\nContent-Length: 2, 2\r\n\r\nok' }],
    ['bare LF line ends', { kind: 'malformed', bytes: 'HTTP/1.1 202 Accepted\nContent-Length: 2\n\nok' }],
    ['an answer cut short', { kind: 'malformed', bytes: 'HTTP/1.1 202 Acc' }],
    ['a reset once the request was read', { kind: 'reset' }],
    ['a reset in the middle of the body', { kind: 'resetMidBody' }],
  ] as Array<[string, Behaviour]>)('%s: reported as sent without an answer, not resent by the exporter, sending never paused', async (_name, behaviour) => {
    receiver.setBehaviour(sequence(behaviour, behaviour));
    const exporter = exporterFor({ authRetryIntervalMs: 60_000 });
    expect(await exporter.exportRecords(makeRecords(5))).toMatchObject({ delivered: 0, failed: [], unanswered: [0, 1, 2, 3, 4], cause: expect.stringMatching(/^no answer: /) });
    expect((await exportOnce(exporter, makeRecords(2, {}, 5))).code).toBe(ExportResultCode.FAILED); // export() says so
    expect(exporter.stats()).toMatchObject({ requests: 2, retries: 0, unanswered: 7, failed: { network: 0, retriesExhausted: 0 } });
    expect((await exportOnce(exporter, makeRecords(1, {}, 7))).code).toBe(ExportResultCode.SUCCESS); // not paused
    expect(seqs()).toEqual([7]);
    expect(stderr.lines().join('\n')).not.toMatch(/paused/);
    expect(stderr.lines().join('\n')).toMatch(/export failed: 2 record\(s\) not delivered \(no answer: .*\); 2 of them were sent without an answer and may have arrived/);
  });

  it('an answer after 3.5 s, within the budget: one request, delivered once (no attempt given up early)', async () => {
    receiver.setBehaviour(sequence({ kind: 'delay', ms: 3_500, then: { kind: 'accept' } }));
    const exporter = exporterFor({ exportTimeoutMs: 9_000 });
    expect((await exportOnce(exporter, makeRecords(3))).code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.requests).toHaveLength(1);
    expect(seqs()).toEqual([0, 1, 2]);
  });

  it('counts a refused connection as failed after retries, within the budget', async () => {
    const url = receiver.url;
    await receiver.close();
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: url, exportTimeoutMs: 1500 });
    exporters.push(exporter);
    const started = Date.now();
    const result = await exportOnce(exporter, makeRecords(4));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(Date.now() - started).toBeLessThan(1500 + 1500);
    expect(exporter.stats().failed.retriesExhausted).toBe(4);
    expect(exporter.stats().requests).toBeGreaterThan(1);
  });

  it('bounds an export to a black hole by exportTimeoutMs', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const exporter = exporterFor({ exportTimeoutMs: 600 });
    const started = Date.now();
    const result = await exportOnce(exporter, makeRecords(3));
    const took = Date.now() - started;
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(600 + 1500); // bounded (generous slack: shared machines)
    expect(exporter.stats()).toMatchObject({ requests: 1, unanswered: 3 }); // sent, never answered: not sent again
  });

  it('treats a 2xx whose body drips slowly as delivered', async () => {
    receiver.setBehaviour(sequence({ kind: 'drip', ms: 200, then: { kind: 'accept' } }));
    const exporter = exporterFor({ exportTimeoutMs: 1000 });
    expect((await exportOnce(exporter, makeRecords(2))).code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('refusals', () => {
  it('splits on 413 until batches fit', async () => {
    receiver.setBehaviour((req) => (req.events.length > 8 ? { kind: 'status', status: 413 } : { kind: 'accept' }));
    const exporter = exporterFor();
    expect((await exportOnce(exporter, makeRecords(50))).code).toBe(ExportResultCode.SUCCESS);
    expect(seqs().sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });

  it('drops and counts a single event the server finds too large', async () => {
    receiver.setBehaviour((req) =>
      (req.events as Event[]).some((e) => e.message === 'event 3') ? { kind: 'status', status: 413 } : { kind: 'accept' },
    );
    const exporter = exporterFor();
    const result = await exportOnce(exporter, makeRecords(8));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(seqs().sort()).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(exporter.stats().rejected).toEqual({ badRequest: 0, tooLarge: 1 });
  });

  it('isolates a poisoned event on 400 so the others arrive, without retrying the same body', async () => {
    receiver.setBehaviour((req) =>
      (req.events as Event[]).some((e) => e.message === 'event 37') ? { kind: 'status', status: 400 } : { kind: 'accept' },
    );
    const exporter = exporterFor();
    const outcome = await exporter.exportRecords(makeRecords(100));
    expect(outcome).toEqual({ delivered: 99, rejected: { badRequest: 1, tooLarge: 0 }, failed: [], unanswered: [], failureReason: undefined });
    expect(seqs()).toHaveLength(99);
    expect(seqs()).not.toContain(37);
    const bodies = receiver.requests.map((r) => r.bodyText);
    expect(new Set(bodies).size).toBe(bodies.length); // no body was sent twice
    expect(receiver.requests.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 1);
    expect(stderr.lines().join('')).toMatch(/refused an event \(HTTP 400/);
  });

  it('stops on 401, says so once without the key, fails fast, and resumes after the key is fixed', async () => {
    receiver.setApiKey('the-right-key');
    const exporter = exporterFor({ authRetryIntervalMs: 300 });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await exportOnce(exporter, makeRecords(2)));
    expect(results.every((r) => r.code === ExportResultCode.FAILED)).toBe(true);
    expect(receiver.requests).toHaveLength(1);
    const said = stderr.lines().join('');
    expect(said.match(/refused the API key \(HTTP 401\)/g)).toHaveLength(1);
    expect(said).not.toContain(TEST_KEY);
    expect(said).not.toContain('TESTSECRET');
    for (const r of results) expect(String(r.error)).not.toContain('TESTSECRET');
    expect(exporter.stats().failed.unauthorized).toBe(10);

    receiver.setApiKey(TEST_KEY); // the key is fixed on the server side (e.g. rotated back)
    await new Promise((r) => setTimeout(r, 350));
    expect((await exportOnce(exporter, makeRecords(2))).code).toBe(ExportResultCode.SUCCESS);
    expect(stderr.lines().join('')).toMatch(/accepted the API key again/);
  });

  it('a 401 that arrives after a later request was accepted neither pauses sending nor says the key was refused', async () => {
    // The first request's 401 is held back until the second request has been answered 202, as
    // answers on two sockets can arrive: the key worked in between.
    let releaseFirst: (() => void) | undefined;
    let requests = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const answer = (status: number) => res.writeHead(status, { 'content-type': 'application/json' }).end(status === 202 ? '{"status":"accepted"}' : '{"error":"unauthorized"}');
        if (++requests === 1) releaseFirst = () => answer(401);
        else {
          answer(202);
          res.on('finish', () =>
            setTimeout(() => {
              const release = releaseFirst;
              releaseFirst = undefined; // once: later requests are answered 202 only
              release?.();
            }, 20),
          );
        }
      });
    });
    const port = await listenOnLoopback(server);
    try {
      const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: `http://127.0.0.1:${port}`, authRetryIntervalMs: 60_000 });
      exporters.push(exporter);
      const first = exporter.exportRecords(makeRecords(2));
      await new Promise((r) => setTimeout(r, 50)); // the first request is at the server
      const second = await exporter.exportRecords(makeRecords(2));
      expect(second.delivered).toBe(2);
      expect(await first).toMatchObject({ delivered: 0, failed: [0, 1], failureReason: 'unauthorized' });
      // Not paused: the next export goes out at once and is delivered.
      expect((await exporter.exportRecords(makeRecords(1))).delivered).toBe(1);
      expect(stderr.lines().join('')).not.toMatch(/refused the API key/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('reports an unexpected status once and does not retry it', async () => {
    receiver.setBehaviour(() => ({ kind: 'status', status: 404 }));
    const exporter = exporterFor();
    await exportOnce(exporter, makeRecords(1));
    await exportOnce(exporter, makeRecords(1));
    expect(receiver.requests).toHaveLength(2);
    expect(stderr.lines().join('').match(/answered HTTP 404/g)).toHaveLength(1);
    expect(exporter.stats().failed.httpError).toBe(2);
  });
});

describe('contract', () => {
  it('calls back exactly once, and survives a callback that throws', async () => {
    const exporter = exporterFor();
    let calls = 0;
    exporter.export(makeRecords(1), () => {
      calls++;
      throw new Error('callback bug');
    });
    await exporter.forceFlush();
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    expect(stderr.lines().join('')).toMatch(/callback threw: callback bug/);
  });

  it('answers an empty or malformed batch without a request', async () => {
    const exporter = exporterFor();
    expect((await exportOnce(exporter, [])).code).toBe(ExportResultCode.SUCCESS);
    expect((await exportOnce(exporter, null as never)).code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.requests).toHaveLength(0);
  });

  it('forceFlush waits for exports in flight', async () => {
    receiver.setBehaviour(() => ({ kind: 'delay', ms: 300, then: { kind: 'accept' } }));
    const exporter = exporterFor();
    let done = false;
    exporter.export(makeRecords(2), () => (done = true));
    await exporter.forceFlush();
    expect(done).toBe(true);
    expect(receiver.accepted).toHaveLength(2);
  });

  it('shuts down within shutdownTimeoutMs against a black hole, idempotently, and fails exports afterwards', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const exporter = exporterFor({ shutdownTimeoutMs: 300, exportTimeoutMs: 30_000 });
    const pending = exportOnce(exporter, makeRecords(3));
    await receiver.waitForRequests(1);
    const started = Date.now();
    const first = exporter.shutdown();
    expect(exporter.shutdown()).toBe(first);
    await first;
    expect(Date.now() - started).toBeLessThan(300 + 1500);
    expect((await pending).code).toBe(ExportResultCode.FAILED);
    expect(exporter.stats()).toMatchObject({ unanswered: 3, failed: { shutdown: 0 } }); // abandoned on the wire: it may have arrived
    const after = await exportOnce(exporter, makeRecords(1));
    expect(after.code).toBe(ExportResultCode.FAILED);
    expect(receiver.requests).toHaveLength(1);
  });

  it('shutdown lets a quick export in flight finish', async () => {
    receiver.setBehaviour(() => ({ kind: 'delay', ms: 100, then: { kind: 'accept' } }));
    const exporter = exporterFor({ shutdownTimeoutMs: 2000 });
    const pending = exportOnce(exporter, makeRecords(2));
    await exporter.shutdown();
    expect((await pending).code).toBe(ExportResultCode.SUCCESS);
  });
});
