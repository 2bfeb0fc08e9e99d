import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode, loggingErrorHandler, setGlobalErrorHandler, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AstralogConfigError } from '../../src/config/errors.ts';
import { EncodedEvent } from '../../src/exporter/encoded-event.ts';
import { Batch } from '../../src/processor/batch.ts';
import { BoundedQueue, QueueBudget, type QueueChunk } from '../../src/processor/bounded-queue.ts';
import { RecordQueue } from '../../src/processor/record-queue.ts';
import { LEVELS } from '../../src/ground/levels.ts';
import { AstralogLogRecord, type RecordOrigin } from '../../src/record.ts';
import { AstralogBatchLogRecordProcessor } from '../../src/processor/processor.ts';
import { PREPARE_EXPORT, REPORTS_PER_RECORD } from '../../src/protocol.ts';
import { captureStderr } from '../support/exporting.ts';
import { expectAccounted, ScriptedDetailedExporter, ScriptedExporter, tick } from '../support/processing.ts';
import { makeRecord, makeRecords, sampleSpan } from '../support/records.ts';

let stderr: ReturnType<typeof captureStderr>;
const processors: AstralogBatchLogRecordProcessor[] = [];
beforeEach(() => {
  stderr = captureStderr();
});
afterEach(async () => {
  await Promise.all(processors.splice(0).map((p) => p.shutdown()));
  stderr.restore();
});

function processorWith(exporter: ScriptedExporter, options: Record<string, number> = {}): AstralogBatchLogRecordProcessor {
  const p = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 60_000, ...options });
  processors.push(p);
  return p;
}

describe('BoundedQueue', () => {
  it('bounds by count and bytes, keeps FIFO order across growth and wrap-around', () => {
    const q = new BoundedQueue<number>(new QueueBudget(4000, 1_000_000));
    const out: number[] = [];
    const sizes: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2500; i++) expect(q.push(round * 10_000 + i, 10)).toBe(true);
      q.shiftInto(2000, out, sizes);
      expect(q.length).toBe(500 + round * 500);
    }
    expect(out.slice(0, 3)).toEqual([0, 1, 2]);
    expect(out[2000]).toBe(2000); // the rest of round 0 first
    expect(out[2500]).toBe(10_000);
    expect(out.every((v, i) => i === 0 || v > out[i - 1]!)).toBe(true);
    expect(q.headSeq).toBe(6000);
    expect(q.budget.bytes).toBe(q.length * 10);
    const small = new BoundedQueue<string>(new QueueBudget(2, 100));
    expect([small.push('a', 60), small.push('b', 50), small.push('c', 10), small.push('d', 10)]).toEqual([true, false, true, false]);
  });

  /** Counts the chunks a queue allocates. */
  class CountingQueue extends BoundedQueue<number> {
    declare allocated: number[]; // set by newChunk, first called from the base constructor
    protected override newChunk(capacity: number): QueueChunk<number> {
      (this.allocated ??= []).push(capacity);
      return super.newChunk(capacity);
    }
  }

  it('grows by chunks it never copies, reuses an emptied one, and keeps one spare for a steady flow', () => {
    const q = new CountingQueue(new QueueBudget(1_000_000, 1e12));
    for (let i = 0; i < 500; i++) q.push(i, 1);
    const out: number[] = [];
    q.shiftInto(500, out);
    for (let i = 500; i < 1000; i++) q.push(i, 1); // the emptied first chunk is written from its start again
    expect(q.allocated).toEqual([1024]);
    for (let i = 1000; i < 20_000; i++) q.push(i, 1);
    expect(q.allocated).toEqual([1024, 2048, 4096, 4096, 4096, 4096, 4096]); // doubling, then 4096 each
    q.shiftInto(Infinity, out);
    expect(out).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    expect([q.length, q.headSeq, q.budget.items, q.budget.bytes]).toEqual([0, 20_000, 0, 0]);
    // A flow that fills the kept chunk and one more, drained each time: the spare serves it.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 6000; i++) q.push(i, 1);
      expect(q.shiftInto(6000)).toBe(6000);
    }
    expect(q.allocated).toHaveLength(7);
  });

  it('never makes a chunk larger than the queue may hold, however long one item stays unread', () => {
    const q = new CountingQueue(new QueueBudget(2, 1e12));
    q.push(0, 1);
    for (let i = 1; i < 100; i++) {
      expect(q.push(i, 1)).toBe(true); // one waits at the head while the next comes in
      const out: number[] = [];
      q.shiftInto(1, out);
      expect(out).toEqual([i - 1]);
    }
    expect(Math.max(...q.allocated)).toBe(2);
    expect(q.allocated.length).toBeLessThanOrEqual(3); // the first, then two that take turns (one spare)
  });
});

describe('RecordQueue', () => {
  const origin: RecordOrigin = { resource: resourceFromAttributes({ 'service.name': 'svc' }), instrumentationScope: { name: 'scope' } };

  it("keeps our client's records as fields and others as they are, in one order, across chunks", () => {
    const q = new RecordQueue(new QueueBudget(100_000, 1e12));
    const foreign = makeRecords(3);
    const expected: ReadableLogRecord[] = [];
    for (let i = 0; i < 9000; i++) {
      if (i % 3000 === 1500) {
        const record = foreign[i / 3000 - 0.5] as ReadableLogRecord;
        expect(q.push(record, 10)).toBe(true);
        expected.push(record);
        continue;
      }
      const level = i % 2 === 0 ? LEVELS.info : LEVELS.error;
      const span = i % 5 === 0 ? sampleSpan : undefined;
      expect(q.pushFields(origin, 1_700_000_000_000 + i + 0.5, level, `event ${i}`, { i }, span, 10)).toBe(true);
      expected.push(new AstralogLogRecord(1_700_000_000_000 + i + 0.5, level, `event ${i}`, { i }, span, origin));
    }
    const out: ReadableLogRecord[] = [];
    const sizes: number[] = [];
    expect(q.shiftInto(Infinity, out, sizes)).toBe(90_000);
    expect(out).toHaveLength(9000);
    expect(out.filter((r) => foreign.includes(r))).toEqual(foreign); // the same objects
    expect(out).toEqual(expected);
    expect(out.map((r) => r.hrTime)).toEqual(expected.map((r) => r.hrTime));
    expect(out[5]).toMatchObject({ resource: origin.resource, instrumentationScope: origin.instrumentationScope, severityText: 'error', spanContext: sampleSpan });
    expect([q.length, q.budget.items, q.budget.bytes, sizes.length]).toEqual([0, 0, 0, 9000]);
  });

  it('keeps a record of another origin as a record object, and drops what does not fit', () => {
    const q = new RecordQueue(new QueueBudget(2, 100));
    const other: RecordOrigin = { ...origin, instrumentationScope: { name: 'other' } };
    expect(q.pushFields(origin, 1, LEVELS.info, 'a', {}, undefined, 10)).toBe(true);
    expect(q.pushFields(other, 2, LEVELS.warn, 'b', { k: 1 }, undefined, 10)).toBe(true);
    expect(q.pushFields(origin, 3, LEVELS.info, 'c', {}, undefined, 10)).toBe(false); // maxItems 2
    const out: ReadableLogRecord[] = [];
    q.shiftInto(2, out);
    expect(out.map((r) => [r.body, r.instrumentationScope.name])).toEqual([['a', 'scope'], ['b', 'other']]);
    expect(q.pushFields(origin, 4, LEVELS.info, 'd', {}, undefined, 101)).toBe(false); // over maxBytes
    expect([q.length, q.headSeq, q.budget.bytes]).toEqual([0, 2, 0]);
    const record = makeRecord({ body: 'e' }); // into the slot that held 'a' as fields
    expect(q.push(record, 10)).toBe(true);
    out.length = 0;
    q.shiftInto(1, out);
    expect(out[0]).toBe(record);
  });
});

describe('Batch', () => {
  it('holds its records, then the encoded copy the exporter made of them, until released', () => {
    const records = makeRecords(3);
    const batch = Batch.ofQueued(records, [100, 110, 120], 330, 7);
    expect([batch.state, batch.count, batch.minSeq, batch.bytes]).toEqual(['records', 3, 7, 330]);
    expect(batch.recordAt(1)).toBe(records[1]);
    expect(batch.entryAt(2)).toMatchObject({ record: records[2], bytes: 120, seq: 9 });
    let released = 0;
    const events = records.map((_, i) => new EncodedEvent(Buffer.from(`{"e":${i}}`), { resource: records[0]!.resource, instrumentationScope: { name: 't' } }));
    const start = () => Promise.reject(new Error('not sent here'));
    batch.encodedAs({ start, encoded: { resource: records[0]!.resource, bytes: 21, event: (i) => events[i]!, awaitingAnswer: false, release: () => released++ } });
    expect([batch.state, batch.bytes, batch.unencoded]).toEqual(['encoded', 21, undefined]); // the records are let go
    expect(batch.recordAt(1)).toBe(events[1]);
    expect(batch.entryAt(1)).toMatchObject({ record: events[1], bytes: 7, seq: 8 }); // an encoded copy holds its bytes
    batch.release();
    batch.release();
    expect([batch.state, released]).toEqual(['released', 1]);
  });

  it('keeps its records when the exporter gives no usable encoded copy, and a retry batch its entries', () => {
    const records = makeRecords(2);
    const batch = Batch.ofQueued(records, [10, 10], 20, 0);
    batch.encodedAs({ start: () => Promise.reject(new Error('unused')), encoded: undefined as never });
    expect([batch.state, batch.unencoded, batch.prepared !== undefined]).toEqual(['records', records, true]);
    const entries = records.map((record, i) => ({ record, bytes: 50, seq: 40 - i, unanswered: 0 }));
    const retries = Batch.ofRetries(entries, 100);
    expect([retries.minSeq, retries.count, retries.entryAt(0)]).toEqual([39, 2, entries[0]]);
  });
});

describe('AstralogBatchLogRecordProcessor', () => {
  it('drops what does not fit by count, at once, and counts it', () => {
    const exporter = new ScriptedExporter();
    const p = processorWith(exporter, { maxQueueSize: 10, maxBatchSize: 5 });
    for (const r of makeRecords(15)) p.onEmit(r);
    expect(p.stats()).toMatchObject({ emitted: 15, queued: 10, dropped: { queueFull: 5 } });
    expectAccounted(p.stats());
  });

  it('drops by estimated bytes, and a record larger than the whole budget as tooLarge', () => {
    const p = processorWith(new ScriptedExporter(), { maxQueueBytes: 64 * 1024 });
    for (const r of makeRecords(10, { attributes: { blob: 'x'.repeat(10_000) } })) p.onEmit(r);
    p.onEmit(makeRecord({ body: 'y'.repeat(100_000) }));
    const s = p.stats();
    expect(s.queued).toBe(6);
    expect(s.queuedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(s.dropped).toMatchObject({ queueFull: 4, tooLarge: 1 });
    expectAccounted(s);
  });

  it('never exports on the caller path, then exports full batches with bounded concurrency (behind an exporter that reports per record)', async () => {
    const exporter = new ScriptedDetailedExporter();
    exporter.answer = () => ({ delayMs: 20, then: 'success' });
    const p = processorWith(exporter, { maxBatchSize: 100, maxConcurrentExports: 3 });
    for (const r of makeRecords(1000)) p.onEmit(r);
    expect(exporter.batches).toHaveLength(0); // nothing happened inside onEmit
    await p.forceFlush();
    expect(exporter.batches.map((b) => b.length)).toEqual(Array(10).fill(100));
    expect(exporter.maxInFlight).toBe(3);
    expect(p.stats()).toMatchObject({ emitted: 1000, exported: 1000, queued: 0, inFlight: 0 });
  });

  it('exports a partial batch on the interval timer', async () => {
    const exporter = new ScriptedExporter();
    const p = processorWith(exporter, { flushIntervalMs: 30 });
    for (const r of makeRecords(3)) p.onEmit(r);
    expect(exporter.exported()).toHaveLength(0); // a partial batch waits for the timer
    await vi.waitFor(() => expect(p.stats().exported).toBe(3));
    expect(exporter.exported()).toHaveLength(3);
  });

  it('keeps records of failed exports within the bounds and delivers them once the exporter recovers', async () => {
    const exporter = new ScriptedDetailedExporter();
    let healthy = false;
    const delivered: number[] = [];
    exporter.answer = (batch) => {
      if (!healthy) return 'fail';
      delivered.push(...batch.map((r) => (r.attributes as { seq: number }).seq));
      return 'success';
    };
    const p = processorWith(exporter, { flushIntervalMs: 20, maxBatchSize: 50 });
    for (const r of makeRecords(200)) p.onEmit(r);
    // Kept between attempts (while an attempt is under way they count as in flight instead).
    await vi.waitFor(() => expect(p.stats().retrying).toBeGreaterThan(0));
    expectAccounted(p.stats());
    healthy = true;
    await vi.waitFor(() => expect(p.stats()).toMatchObject({ emitted: 200, exported: 200, queued: 0 }), { timeout: 5_000 });
    expect(delivered.sort((x, y) => x - y)).toEqual([...Array(200).keys()]); // each once
  });

  it('behind any other exporter, a failed batch is dropped at once, never sent again, and its error goes to the global error handler', async () => {
    const errors: unknown[] = [];
    setGlobalErrorHandler((error) => errors.push(error));
    try {
      const exporter = new ScriptedExporter();
      exporter.answer = () => 'fail';
      const p = processorWith(exporter, { flushIntervalMs: 5 });
      for (const r of makeRecords(3)) p.onEmit(r);
      await p.forceFlush();
      await tick(50); // intervals pass: nothing is resent
      await p.forceFlush();
      expect(p.stats()).toMatchObject({ exported: 0, queued: 0, dropped: { exportFailed: 3 } });
      expect(exporter.batches).toHaveLength(1);
      expect(errors.map((e) => (e as Error).message)).toEqual(['scripted failure']);
    } finally {
      setGlobalErrorHandler(loggingErrorHandler());
    }
  });

  it('takes an exporter for ours by its mark, not by a method name: another exporter with an exportRecords method gets the specification\'s rules', async () => {
    const lookalike = Object.assign(new ScriptedExporter(), { exportRecords: () => Promise.reject(new Error('never called')) });
    lookalike.answer = () => ({ delayMs: 5, then: 'success' });
    const p = processorWith(lookalike, { maxBatchSize: 10, maxConcurrentExports: 8 });
    for (const r of makeRecords(50)) p.onEmit(r);
    await p.forceFlush();
    expect(lookalike.batches).toHaveLength(5); // through export(), one at a time
    expect(lookalike.maxInFlight).toBe(1);
    expect(p.stats().exported).toBe(50);
  });

  describe('behind any other exporter, faults found by an adversarial review', () => {
    let errors: Error[];
    beforeEach(() => {
      errors = [];
      setGlobalErrorHandler((error) => errors.push(error as Error));
    });
    afterEach(() => {
      vi.useRealTimers();
      setGlobalErrorHandler(loggingErrorHandler());
    });
    const pendingResource = (wait: () => Promise<void>) => {
      const resource = resourceFromAttributes({ 'service.name': 'x' });
      let pending = true;
      Object.defineProperty(resource, 'asyncAttributesPending', { get: () => pending });
      resource.waitForAsyncAttributes = () => wait().finally(() => (pending = false));
      return resource;
    };

    it('a resource whose waitForAsyncAttributes throws at once: reported, the batch still exported, nothing thrown', async () => {
      const resource = resourceFromAttributes({ 'service.name': 'x' });
      Object.defineProperty(resource, 'asyncAttributesPending', { get: () => true });
      resource.waitForAsyncAttributes = () => {
        throw new Error('detector blew up');
      };
      const exporter = new ScriptedExporter();
      const p = processorWith(exporter, { maxBatchSize: 50 });
      for (const r of makeRecords(3, { resource })) p.onEmit(r);
      await expect(p.forceFlush()).resolves.toBeUndefined();
      expect(exporter.exported()).toHaveLength(3);
      expect(errors.map((e) => e.message)).toEqual(['detector blew up']);
    });

    it('an export that fails after it was given up on is reported once', async () => {
      let late: ((result: ExportResult) => void) | undefined;
      const exporter = Object.assign(new ScriptedExporter(), { export: (_r: unknown, done: (result: ExportResult) => void) => void (late = done) });
      const p = processorWith(exporter, { maxBatchSize: 5, exportTimeoutMs: 50 });
      for (const r of makeRecords(5)) p.onEmit(r);
      await vi.waitFor(() => expect(errors).toHaveLength(1));
      late?.({ code: ExportResultCode.FAILED, error: new Error('Request timed out') });
      await tick(10);
      expect(errors.map((e) => e.message)).toEqual(['log record export did not complete within 50 ms']);
      expect(p.stats().dropped.exportFailed).toBe(5);
    });

    it("gives an export the stock 30 s unless exportTimeoutMs is set (the OTLP exporters' own 10 s ends theirs first)", async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const exporter = new ScriptedExporter();
      exporter.answer = () => 'hang';
      const p = processorWith(exporter, { maxBatchSize: 5 });
      for (const r of makeRecords(5)) p.onEmit(r);
      await vi.advanceTimersByTimeAsync(29_999);
      expect(errors).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(errors).toHaveLength(1);
    });

    it("waiting for a resource's attributes is not the export's time", async () => {
      const resource = pendingResource(() => tick(150));
      const exporter = new ScriptedExporter();
      const p = processorWith(exporter, { maxBatchSize: 5, exportTimeoutMs: 100 });
      for (const r of makeRecords(5, { resource })) p.onEmit(r);
      await vi.waitFor(() => expect(exporter.batches).toHaveLength(1));
      await p.forceFlush();
      expect(p.stats()).toMatchObject({ exported: 5, dropped: { exportFailed: 0 } });
      expect(errors).toEqual([]);
    });

    it('a failed batch is said dropped whole, and never as kept for sending again', async () => {
      const exporter = new ScriptedExporter();
      exporter.answer = () => 'fail';
      const p = processorWith(exporter, { maxBatchSize: 50 });
      for (const r of makeRecords(50)) p.onEmit(r);
      await p.forceFlush();
      const lines = stderr.lines();
      expect(lines.filter((l) => l.includes('dropped'))[0]).toMatch(/dropped 50 log record\(s\): 50 exportFailed/);
      expect(lines.join('\n')).not.toMatch(/are kept|sent again/);
    });

    it('forceFlush({ timeoutMillis: Infinity }) waits for the flush (a timer cannot take Infinity)', async () => {
      const exporter = new ScriptedExporter();
      exporter.answer = () => ({ delayMs: 30, then: 'success' });
      const p = processorWith(exporter);
      for (const r of makeRecords(5)) p.onEmit(r);
      await p.forceFlush({ timeoutMillis: Number.POSITIVE_INFINITY });
      expect(p.stats().exported).toBe(5);
      for (const r of makeRecords(5)) p.onEmit(r);
      await p.forceFlush({ timeoutMillis: Number.NaN });
      expect(p.stats().exported).toBe(10);
    });
  });

  it('behind any other exporter, one export at a time (the specification: Export calls are synchronized)', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = () => ({ delayMs: 10, then: 'success' });
    const p = processorWith(exporter, { maxBatchSize: 100, maxConcurrentExports: 8 });
    for (const r of makeRecords(1000)) p.onEmit(r);
    await p.forceFlush();
    expect(exporter.batches).toHaveLength(10);
    expect(exporter.maxInFlight).toBe(1);
    expect(p.stats()).toMatchObject({ emitted: 1000, exported: 1000, queued: 0, inFlight: 0 });
  });

  it('abandons an export whose callback never comes, counting its records', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = () => 'hang';
    const p = processorWith(exporter, { exportTimeoutMs: 50 });
    for (const r of makeRecords(4)) p.onEmit(r);
    void p.forceFlush();
    expect(p.stats().inFlight).toBe(4);
    await vi.waitFor(() => expect(p.stats()).toMatchObject({ inFlight: 0, dropped: { exportFailed: 4 } }));
    expectAccounted(p.stats());
  });

  it('sends through exportRecords when an exporter\'s prepareExport gives nothing usable, and never throws', async () => {
    const delivered = (n: number) => Promise.resolve({ delivered: n, rejected: { badRequest: 0, tooLarge: 0 }, failed: [], failureReason: undefined });
    const broken: Array<(records: ReadableLogRecord[]) => unknown> = [
      () => null,
      () => {
        throw new Error('prepare failed');
      },
      () => ({ start: 42 }),
      (records) => ({ start: () => delivered(records.length), encoded: { event: 1 } }), // sent, its records kept
    ];
    for (const prepareExport of broken) {
      const exporter = Object.assign(new ScriptedExporter(), {
        [REPORTS_PER_RECORD]: true,
        [PREPARE_EXPORT]: prepareExport,
        exportRecords(this: ScriptedExporter, records: ReadableLogRecord[]) {
          this.batches.push(records);
          return delivered(records.length);
        },
      });
      const p = processorWith(exporter, { maxBatchSize: 10, maxConcurrentExports: 1 });
      for (const r of makeRecords(40)) p.onEmit(r); // one batch in flight, three prepared ahead
      await p.forceFlush();
      expect(p.stats()).toMatchObject({ emitted: 40, exported: 40, queued: 0, queuedBytes: 0, inFlight: 0 });
    }
  });

  it('flushes everything emitted before concurrent flushes and a shutdown', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = (_b, i) => ({ delayMs: 5 + (i % 3) * 10, then: 'success' });
    const p = processorWith(exporter, { maxBatchSize: 64 });
    for (const r of makeRecords(700)) p.onEmit(r);
    const first = p.forceFlush();
    for (const r of makeRecords(300)) p.onEmit(r);
    const second = p.forceFlush();
    const shutdown = p.shutdown();
    await Promise.all([first, second, shutdown]);
    expect(exporter.exported()).toHaveLength(1000);
    expect(p.stats()).toMatchObject({ emitted: 1000, exported: 1000, queued: 0, inFlight: 0 });
    expect(exporter.shutdowns).toBe(1);
  });

  it('resolves forceFlush even when the exporter fails fast, without spinning', async () => {
    const exporter = new ScriptedDetailedExporter();
    exporter.answer = () => 'fail';
    const p = processorWith(exporter);
    for (const r of makeRecords(10)) p.onEmit(r);
    await p.forceFlush();
    expect(exporter.batches).toHaveLength(1);
    await p.forceFlush(); // re-sends the kept records once
    expect(exporter.batches).toHaveLength(2);
    expect(p.stats()).toMatchObject({ retrying: 10 });
  });

  it('shuts down within its deadline against a hung exporter, counting what is left', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = () => 'hang';
    const p = processorWith(exporter, { shutdownTimeoutMs: 200, maxBatchSize: 10, maxConcurrentExports: 1 });
    for (const r of makeRecords(50)) p.onEmit(r);
    const started = Date.now();
    await p.shutdown();
    expect(Date.now() - started).toBeLessThan(200 + 1000);
    expect(p.stats()).toMatchObject({ emitted: 50, exported: 0, queued: 0, inFlight: 0, dropped: { shutdown: 50 } });
    expect(p.shutdown()).toBe(p.shutdown());
    p.onEmit(makeRecord());
    expect(p.stats().dropped.shutdown).toBe(51);
    await p.forceFlush(); // resolves after shutdown too
    expectAccounted(p.stats());
  });

  it("shuts down within its deadline when the exporter's own forceFlush never settles", async () => {
    const exporter = new ScriptedExporter();
    exporter.forceFlush = () => new Promise<void>(() => undefined);
    const p = processorWith(exporter, { shutdownTimeoutMs: 200 });
    for (const r of makeRecords(3)) p.onEmit(r);
    const started = Date.now();
    await p.shutdown();
    expect(Date.now() - started).toBeLessThan(200 + 1000);
    expect(exporter.exported()).toHaveLength(3);
    expect(exporter.shutdowns).toBe(1);
  });

  it('never throws from onEmit, whatever it is given', () => {
    const p = processorWith(new ScriptedExporter());
    const hostile = new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } });
    expect(() => p.onEmit(null as never)).not.toThrow();
    expect(() => p.onEmit(hostile as never)).not.toThrow();
    expect(() => p.onEmit(makeRecord({ attributes: hostile as never }))).not.toThrow();
    expect(p.stats()).toMatchObject({ emitted: 3, dropped: { invalid: 1 } });
    expectAccounted(p.stats());
  });

  it('says it dropped records in one throttled line', () => {
    const p = processorWith(new ScriptedExporter(), { maxQueueSize: 5, maxBatchSize: 5 });
    for (const r of makeRecords(1000)) p.onEmit(r);
    const lines = stderr.lines().filter((l) => l.includes('dropped'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/dropped 1 log record\(s\): 1 queueFull \(the queue was full\)\. Limits: maxQueueSize=5/);
  });

  it('works with a stock exporter through the OTel Logger', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const processor = new AstralogBatchLogRecordProcessor({ exporter });
    const provider = new LoggerProvider({ processors: [processor] });
    provider.getLogger('t').emit({ body: 'hello', attributes: { a: 1 } });
    await provider.forceFlush();
    expect(exporter.getFinishedLogRecords().map((r) => r.body)).toEqual(['hello']);
    await provider.shutdown();
  });

  it('validates its options', () => {
    expect(() => new AstralogBatchLogRecordProcessor({} as never)).toThrow(AstralogConfigError);
    expect(() => new AstralogBatchLogRecordProcessor({ exporter: new ScriptedExporter(), maxQueueSize: 0 })).toThrow(/maxQueueSize/);
    expect(() => new AstralogBatchLogRecordProcessor({ exporter: new ScriptedExporter(), exportTimeoutMillis: -1 })).toThrow(/exportTimeoutMillis/);
  });

  it("takes the stock processor's option names (its own win when both are given), and clamps a batch larger than the queue as the stock one does", async () => {
    const exporter = new ScriptedExporter();
    const p = processorWith(exporter, { maxExportBatchSize: 7, scheduledDelayMillis: 60_000, exportTimeoutMillis: 1234 });
    for (const r of makeRecords(20)) p.onEmit(r);
    await p.forceFlush();
    expect(exporter.batches.map((b) => b.length)).toEqual([7, 7, 6]);
    const both = new ScriptedExporter();
    const q = processorWith(both, { maxExportBatchSize: 7, maxBatchSize: 4 });
    for (const r of makeRecords(8)) q.onEmit(r);
    await q.forceFlush();
    expect(both.batches.map((b) => b.length)).toEqual([4, 4]);
    const warnings: string[] = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error: () => undefined, info: () => undefined, debug: () => undefined, verbose: () => undefined }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      const clamped = new ScriptedExporter();
      const r = processorWith(clamped, { maxBatchSize: 10, maxQueueSize: 5 });
      for (const record of makeRecords(5)) r.onEmit(record);
      await r.forceFlush();
      expect(clamped.batches.map((b) => b.length)).toEqual([5]);
      expect(warnings.join('\n')).toMatch(/maxBatchSize \(10\) exceeds maxQueueSize; using 5/);
    } finally {
      diag.disable();
    }
  });
});
