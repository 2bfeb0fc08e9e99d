import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { total } from '../../src/processor/drop-report.ts';
import { AstralogBatchLogRecordProcessor } from '../../src/processor/processor.ts';
import { AstralogLogRecordExporter, createAstralog } from '../../src/index.ts';
import { HAND_OVER_PENDING, PREPARE_SYNC_DELIVERY, SETTLE_HANDED_OVER } from '../../src/protocol.ts';
import { captureStderr, TEST_KEY } from '../support/exporting.ts';
import { expectAccounted, tick } from '../support/processing.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { makeRecords } from '../support/records.ts';

let receiver: Receiver;
let stderr: ReturnType<typeof captureStderr>;
let processor: AstralogBatchLogRecordProcessor | undefined;

beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
  stderr = captureStderr();
});
afterEach(async () => {
  await processor?.shutdown();
  processor = undefined;
  await receiver.close();
  stderr.restore();
});

/** The receiver answers `status` until the returned function is called, then accepts. */
function startOutage(status: number): () => void {
  let outage = true;
  receiver.setBehaviour(() => (outage ? { kind: 'status', status } : { kind: 'accept' }));
  return () => {
    outage = false;
  };
}

type Event = { message: string; metadata: Record<string, unknown> };
const userSeqs = () =>
  (receiver.accepted as Event[]).filter((e) => e.message !== 'astralog.sdk.dropped').map((e) => e.metadata.seq as number);

describe('processor + exporter against a loopback receiver', () => {
  it('keeps records while the key is refused and delivers them, exactly once, after it is fixed', async () => {
    receiver.setApiKey('rotated-key');
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, authRetryIntervalMs: 200 });
    processor = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 25, maxBatchSize: 100 });
    for (const r of makeRecords(500)) processor.onEmit(r);
    await receiver.waitForRequests(1); // refused (401)
    await vi.waitFor(() => expect(stderr.lines().join('')).toMatch(/refused the API key/));
    // Kept, not dropped: every record is held (queued, or in flight again once the key is retried).
    const during = processor.stats();
    expect(during.exported).toBe(0);
    expect(total(during.dropped)).toBe(0);
    expect(during.queued + during.inFlight).toBe(500);
    expectAccounted(during);
    receiver.setApiKey(TEST_KEY);
    await receiver.waitForEvents(500, 5_000);
    await processor.forceFlush();
    expect(userSeqs().sort((a, b) => a - b)).toEqual([...Array(500).keys()]);
    expect(processor.stats()).toMatchObject({ emitted: 500, exported: 500, queued: 0, inFlight: 0 });
    expect(stderr.lines().join('').match(/refused the API key/g)).toHaveLength(1);
  });

  it('rides out a 503 outage longer than the exporter budget, delivering everything once', async () => {
    const endOutage = startOutage(503);
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, exportTimeoutMs: 150 });
    processor = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 25, maxBatchSize: 50, exportTimeoutMs: 150 });
    for (const r of makeRecords(300)) processor.onEmit(r);
    await vi.waitFor(() => expect(exporter.stats().failed.retriesExhausted).toBeGreaterThan(0), { timeout: 5_000 }); // past the budget
    // Kept, not dropped: every record is held (retrying or in flight again), none exported yet.
    const during = processor.stats();
    expect(during.exported).toBe(0);
    expect(total(during.dropped)).toBe(0);
    expect(during.queued + during.inFlight).toBe(300);
    expectAccounted(during);
    endOutage();
    await receiver.waitForEvents(300, 10_000);
    await processor.forceFlush();
    expect(userSeqs().sort((a, b) => a - b)).toEqual([...Array(300).keys()]);
    expect(processor.stats()).toMatchObject({ emitted: 300, exported: 300, queued: 0 });
  });

  it('tells Astralog what it dropped once sending works again', async () => {
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter, maxQueueSize: 100, maxBatchSize: 100, flushIntervalMs: 60_000 });
    for (const r of makeRecords(130)) processor.onEmit(r);
    await processor.forceFlush();
    await receiver.waitForEvents(100 + 1); // the summary follows the first delivered batch
    const summary = (receiver.accepted as Event[]).find((e) => e.message === 'astralog.sdk.dropped');
    expect(summary).toMatchObject({ level: 'warn', service: 'checkout', metadata: { queueFull: 30, dropped_total: 30 } });
    expect(processor.stats()).toMatchObject({ emitted: 130, exported: 100, dropped: { queueFull: 30 } });
  });

  it('isolates a poisoned record: the others arrive, it is counted as rejected', async () => {
    receiver.setBehaviour((req) => ((req.events as Event[]).some((e) => e.message === 'event 7') ? { kind: 'status', status: 400 } : { kind: 'accept' }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter });
    for (const r of makeRecords(20)) processor.onEmit(r);
    await processor.forceFlush();
    expect(userSeqs()).toHaveLength(19);
    expect(processor.stats()).toMatchObject({ exported: 19, dropped: { rejected: 1 } });
    expectAccounted(processor.stats());
  });

  it('shuts down within its deadline against a black hole, with exact accounting', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter, shutdownTimeoutMs: 300, maxBatchSize: 100 });
    for (const r of makeRecords(1000)) processor.onEmit(r);
    await receiver.waitForRequests(1); // an export is stuck in the black hole
    const started = Date.now();
    await processor.shutdown();
    expect(Date.now() - started).toBeLessThan(300 + 1000);
    const stats = processor.stats();
    expect(stats).toMatchObject({ emitted: 1000, exported: 0, queued: 0, queuedBytes: 0, inFlight: 0 });
    // What was on the wire may have arrived (unanswered); the rest was never sent (shutdown).
    const onTheWire = receiver.requests.reduce((sum, r) => sum + r.events.length, 0);
    expect(stats.dropped).toMatchObject({ unanswered: onTheWire, shutdown: 1000 - onTheWire });
  });

  it('encodes full batches ahead while every export slot is busy: their records die young, and they go out in order', async () => {
    receiver.setBehaviour((_req, index) => (index === 0 ? { kind: 'delay', ms: 1_000, then: { kind: 'accept' } } : { kind: 'accept' }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter, maxBatchSize: 10, maxConcurrentExports: 1 });
    const p = processor;
    const refs = emitTracked(p, makeRecords(45));
    await receiver.waitForRequests(1);
    await collectGarbage();
    // One batch in flight, three encoded ahead (still queued: they count against the bounds), five records waiting.
    const during = p.stats();
    expect(during).toMatchObject({ emitted: 45, exported: 0, queued: 35, inFlight: 10 });
    expect(during.queuedBytes).toBeGreaterThan(0);
    expectAccounted(during);
    const alive = refs.map((r) => r.deref() !== undefined);
    expect(alive.slice(0, 40).filter(Boolean)).toHaveLength(0); // held only as encoded events
    expect(alive.slice(40).every(Boolean)).toBe(true); // a partial batch waits as records
    await p.forceFlush();
    expect(userSeqs()).toEqual([...Array(45).keys()]);
    expect(receiver.requests.map((r) => (JSON.parse(r.bodyText) as { events: unknown[] }).events.length)).toEqual([10, 10, 10, 10, 5]);
    expect(p.stats()).toMatchObject({ emitted: 45, exported: 45, queued: 0, queuedBytes: 0, inFlight: 0 });
  });

  it('sends batches encoded ahead once a backoff ends, also when nothing else is queued', async () => {
    const endOutage = startOutage(503);
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, exportTimeoutMs: 100 });
    processor = new AstralogBatchLogRecordProcessor({ exporter, maxQueueSize: 100, maxBatchSize: 10, maxConcurrentExports: 1, flushIntervalMs: 25, exportTimeoutMs: 100 });
    const p = processor;
    for (const r of makeRecords(100)) p.onEmit(r);
    await tick(20);
    for (const r of makeRecords(10, {}, 100)) p.onEmit(r); // the budget is full: the failing batch will not be kept
    await vi.waitFor(() => expect(p.stats().dropped.exportFailed).toBe(10), { timeout: 5_000 });
    expect(p.stats()).toMatchObject({ exported: 0, dropped: { exportFailed: 10 } });
    expectAccounted(p.stats());
    endOutage();
    const settled = () => p.stats().queued + p.stats().inFlight === 0;
    for (let waited = 0; !settled() && waited < 5_000; waited += 25) await tick(25); // the interval timer alone sends them
    const after = p.stats();
    expect(after).toMatchObject({ emitted: 110, queued: 0, inFlight: 0 });
    expect(after.exported + after.dropped.exportFailed).toBe(110);
    expect(after.exported).toBeGreaterThanOrEqual(90);
    const seqs = userSeqs();
    expect(seqs).toHaveLength(after.exported);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('encodes at most 32 small batches ahead (each holds a buffer of its own)', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter, maxBatchSize: 1, maxConcurrentExports: 1, shutdownTimeoutMs: 200 });
    const p = processor;
    const refs = emitTracked(p, makeRecords(40));
    await receiver.waitForRequests(1);
    await collectGarbage();
    const alive = refs.map((r) => r.deref() !== undefined);
    expect(alive.slice(1, 33).filter(Boolean)).toHaveLength(0); // encoded ahead
    expect(alive.slice(33).every(Boolean)).toBe(true); // waiting as records
    expect(p.stats()).toMatchObject({ queued: 39, inFlight: 1 });
  });

  it('lets records go once they are encoded; a failed export goes out again byte for byte', async () => {
    let refuse = true;
    receiver.setBehaviour(() => (refuse ? { kind: 'status', status: 503 } : { kind: 'accept' }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, exportTimeoutMs: 150 });
    processor = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 25, maxBatchSize: 50, exportTimeoutMs: 150 });
    const p = processor;
    const refs = emitTracked(p, makeRecords(50, { attributes: { big: 'x'.repeat(1000) } }));
    await receiver.waitForRequests(1);
    const firstBody = receiver.requests[0]?.bodyText;
    await collectGarbage();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0); // held only as encoded events
    await tick(400); // the exports ran out of time: the events are kept for another attempt
    expect(p.stats()).toMatchObject({ exported: 0, dropped: { exportFailed: 0, queueFull: 0 } });
    expectAccounted(p.stats());
    refuse = false;
    await receiver.waitForEvents(50, 5_000);
    expect(receiver.requests.at(-1)?.bodyText).toBe(firstBody);
    await p.forceFlush();
    expect(userSeqs()).toEqual([...Array(50).keys()]);
    expect(p.stats()).toMatchObject({ emitted: 50, exported: 50, queued: 0, inFlight: 0 });
  });

  it('hands over what it holds for a last delivery, from encoded events; a batch whose request is on the wire is counted unanswered, not sent twice', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter, maxBatchSize: 10, maxConcurrentExports: 1 });
    for (const r of makeRecords(25)) processor.onEmit(r);
    await receiver.waitForRequests(1); // a batch stuck in the black hole, one encoded ahead, 5 records queued
    expect(processor.stats()).toMatchObject({ queued: 15, inFlight: 10 });
    const handed = processor[HAND_OVER_PENDING]();
    expect(handed).toHaveLength(15);
    const delivery = exporter[PREPARE_SYNC_DELIVERY](handed);
    const events = delivery.bodies.flatMap((b) => (JSON.parse(b.toString('utf8')) as { events: Event[] }).events);
    expect(events.map((e) => e.metadata.seq)).toEqual([...Array(15).keys()].map((i) => i + 10));
    processor[SETTLE_HANDED_OVER](15);
    expect(processor.stats()).toMatchObject({ emitted: 25, exported: 15, queued: 0, queuedBytes: 0, inFlight: 0, dropped: { unanswered: 10 } });
  });

  it('hands over a batch in flight whose request never left (it waits to try again): nothing of it can have arrived', async () => {
    const url = receiver.url;
    await receiver.close(); // nothing listens: every attempt is refused before anything is written
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: url, exportTimeoutMs: 30_000 });
    processor = new AstralogBatchLogRecordProcessor({ exporter, maxBatchSize: 10, maxConcurrentExports: 1 });
    for (const r of makeRecords(10)) processor.onEmit(r);
    await vi.waitFor(() => expect(exporter.stats().retries).toBeGreaterThan(0)); // refused, backing off within the export
    expect(processor.stats()).toMatchObject({ inFlight: 10 });
    expect(processor[HAND_OVER_PENDING]()).toHaveLength(10);
    processor[SETTLE_HANDED_OVER](0);
    expect(processor.stats()).toMatchObject({ emitted: 10, exported: 0, inFlight: 0, dropped: { shutdown: 10, unanswered: 0 } });
    receiver = await startReceiver({ apiKey: TEST_KEY }); // for afterEach
  });
});

// What the SDK says on stderr: one line when sending starts to fail and one when it works again
// (with counts), words that say what happens next, one drop line per ending, nothing that points
// register users at an API they cannot call.
const lines = (pattern: RegExp) => stderr.lines().filter((l) => pattern.test(l));

describe('what the SDK says', () => {
  it('one line when an outage starts and one when it ends, with counts; never "gave up" while records are kept', async () => {
    const endOutage = startOutage(503);
    // A budget wide enough for a loaded machine: every attempt is answered 503, none goes unanswered.
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, exportTimeoutMs: 1_000 });
    processor = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 10, maxBatchSize: 10, exportTimeoutMs: 1_000 });
    for (const r of makeRecords(50)) processor.onEmit(r);
    await vi.waitFor(() => expect(exporter.stats().failed.retriesExhausted).toBeGreaterThanOrEqual(50), { timeout: 10_000 }); // every batch failed
    endOutage();
    await receiver.waitForEvents(50, 10_000);
    await vi.waitFor(() => expect(lines(/works again/)).toHaveLength(1));
    expect(lines(/fails \(HTTP 503\)\. The records are kept and sent again/), stderr.lines().join('\n')).toHaveLength(1);
    expect(lines(/works again after [\d.]+ s: \d+ record\(s\) still kept are being sent\./)).toHaveLength(1);
    expect(stderr.lines().join('\n')).not.toMatch(/gave up|see stats\(\)/);
  });

  it('an unexpected status names the endpoint without claiming the records are lost (they are kept)', async () => {
    receiver.setBehaviour(() => ({ kind: 'status', status: 404 }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 10 });
    for (const r of makeRecords(3)) processor.onEmit(r);
    await vi.waitFor(() => expect(lines(/answered HTTP 404/)).toHaveLength(1));
    expect(lines(/answered HTTP 404/)[0]).toMatch(/check the endpoint\.\s*$/);
    expect(processor.stats()).toMatchObject({ exported: 0 });
    expect(processor.stats().queued + processor.stats().inFlight).toBe(3);
  });

  it('a close() that drops records says so in one line, without pointing at stats()', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const log = createAstralog({ apiKey: TEST_KEY, endpoint: receiver.url, shutdownTimeoutMs: 200, maxBatchSize: 5 });
    for (let i = 0; i < 30; i++) log.info(`event ${i}`);
    await receiver.waitForRequests(1);
    await log.close();
    const dropped = lines(/dropped \d+ log record/);
    expect(dropped, stderr.lines().join('\n')).toHaveLength(1);
    expect(dropped[0]).toMatch(/dropped 30 log record\(s\): (\d+ shutdown .*, )?\d+ unanswered/);
    expect(dropped[0]).not.toMatch(/stats\(\)|Limits/);
    expect(lines(/sending logs to Astralog fails/), stderr.lines().join('\n')).toEqual([]); // the exports it ended are no outage
  });
});

/** Emits the records, keeping only weak references to them: the processor alone decides their lifetime. */
function emitTracked(p: AstralogBatchLogRecordProcessor, records: ReturnType<typeof makeRecords>): Array<WeakRef<object>> {
  for (const r of records) p.onEmit(r);
  return records.map((r) => new WeakRef(r));
}

/** A full collection, for tests that check what is still referenced. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await tick(0);
  gc();
  await tick(0);
  gc();
}
