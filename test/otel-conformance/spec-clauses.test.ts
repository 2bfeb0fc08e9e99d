import { createServer, type ServerResponse } from 'node:http';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AstralogBatchLogRecordProcessor } from '../../src/processor/processor.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { ScriptedExporter, tick } from '../support/processing.ts';
import { makeRecords } from '../support/records.ts';

// The Logs SDK specification's rules for a batching LogRecordProcessor behind a foreign exporter
// (specification/logs/sdk.md: LogRecordProcessor, Batching processor), each run against the stock
// BatchLogRecordProcessor and against ours, side by side. Ours differs from stock behind its own
// exporter only (several exports at once, records kept and resent): see the README.

interface Options {
  exporter: ScriptedExporter;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
}

const processors = {
  stock: (o: Options): LogRecordProcessor => new BatchLogRecordProcessor(o),
  ours: (o: Options): LogRecordProcessor => new AstralogBatchLogRecordProcessor(o),
};

let errors: Error[];
let opened: LogRecordProcessor[];
beforeEach(() => {
  errors = [];
  opened = [];
  setGlobalErrorHandler((error) => errors.push(error as Error));
  // Our processor's own stderr lines are not what is tested here.
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(opened.map((p) => p.shutdown()));
  setGlobalErrorHandler(loggingErrorHandler());
  vi.restoreAllMocks();
});

describe.each(Object.keys(processors) as (keyof typeof processors)[])('%s BatchLogRecordProcessor behind a foreign exporter', (which) => {
  const make = (o: Options) => {
    const processor = processors[which](o);
    opened.push(processor);
    return processor;
  };

  it('MUST synchronize Export calls: one at a time', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = () => ({ delayMs: 5, then: 'success' });
    const p = make({ exporter, maxExportBatchSize: 50, maxQueueSize: 1000, scheduledDelayMillis: 1 });
    for (const r of makeRecords(500)) p.onEmit(r as never);
    await vi.waitFor(() => expect(exporter.exported()).toHaveLength(500), { timeout: 10_000 });
    expect(exporter.maxInFlight).toBe(1);
  });

  it('a failed batch is dropped, not retried (default processors SHOULD NOT retry); the error goes to the global error handler', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = (_b, i) => (i === 0 ? 'fail' : 'success');
    const p = make({ exporter, maxExportBatchSize: 10, scheduledDelayMillis: 1 });
    for (const r of makeRecords(10)) p.onEmit(r as never);
    await p.forceFlush();
    for (const r of makeRecords(5, {}, 10)) p.onEmit(r as never);
    await p.forceFlush();
    await tick(20); // timers pass: nothing is sent again
    const seqs = exporter.exported().map((r) => (r.attributes as { seq: number }).seq);
    expect(seqs).toEqual([...Array(15).keys()]); // the first ten once (failed), then the next five
    expect(errors.map((e) => e.message)).toEqual(['scripted failure']);
  });

  it('exports only the records it was given: none of its own', async () => {
    const exporter = new ScriptedExporter();
    exporter.answer = (_b, i) => (i === 0 ? 'fail' : 'success');
    const p = make({ exporter, maxQueueSize: 10, maxExportBatchSize: 10, scheduledDelayMillis: 1 });
    for (const r of makeRecords(15)) p.onEmit(r as never); // five dropped for want of room
    await p.forceFlush();
    for (const r of makeRecords(3, {}, 100)) p.onEmit(r as never);
    await p.forceFlush();
    await tick(20);
    const seqs = exporter.exported().map((r) => (r.attributes as { seq?: unknown }).seq);
    expect(seqs.every((seq) => typeof seq === 'number')).toBe(true); // each one a record it was given
    expect(new Set(seqs).size).toBe(seqs.length); // and once
  });

  it("waits for the resource's async attributes before an export reads them, without blocking onEmit", async () => {
    let settle!: (id: string) => void;
    const hostId = new Promise<string>((resolve) => (settle = resolve));
    const resource = resourceFromAttributes({ 'service.name': 'checkout', 'host.id': hostId });
    const exporter = new ScriptedExporter();
    const seen: Array<{ pending: boolean | undefined; hostId: unknown }> = [];
    exporter.answer = (batch: ReadableLogRecord[]) => {
      for (const r of batch) seen.push({ pending: r.resource.asyncAttributesPending, hostId: r.resource.attributes['host.id'] });
      return 'success';
    };
    const p = make({ exporter, scheduledDelayMillis: 1 });
    const provider = new LoggerProvider({ resource, processors: [p] });
    opened.push(provider as unknown as LogRecordProcessor);
    const logger = provider.getLogger('t');
    const started = performance.now();
    logger.emit({ body: 'one' });
    expect(performance.now() - started).toBeLessThan(50); // onEmit returned without waiting
    await tick(20);
    expect(exporter.batches).toHaveLength(0); // held until the attributes settle
    settle('host-42');
    await p.forceFlush();
    await vi.waitFor(() => expect(seen).toEqual([{ pending: false, hostId: 'host-42' }]));
  });

  it("shutdown flushes, calls the exporter's forceFlush, then its shutdown", async () => {
    const calls: string[] = [];
    const exporter = new ScriptedExporter();
    exporter.answer = () => {
      calls.push('export');
      return 'success';
    };
    exporter.forceFlush = async () => void calls.push('forceFlush');
    exporter.shutdown = async () => void calls.push('shutdown');
    const p = make({ exporter, scheduledDelayMillis: 60_000 });
    for (const r of makeRecords(3)) p.onEmit(r as never);
    await p.shutdown();
    expect(calls.indexOf('export')).toBeGreaterThanOrEqual(0);
    expect(calls.lastIndexOf('forceFlush')).toBeGreaterThan(calls.indexOf('export'));
    expect(calls.at(-1)).toBe('shutdown');
    expect(calls.filter((c) => c === 'shutdown')).toHaveLength(1);
  });

  it('gives an export exactly exportTimeoutMillis, then reports the timeout to the global error handler', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const exporter = new ScriptedExporter();
    exporter.answer = () => 'hang';
    const p = make({ exporter, exportTimeoutMillis: 2000, maxExportBatchSize: 5, scheduledDelayMillis: 10 });
    for (const r of makeRecords(5)) p.onEmit(r as never);
    await vi.advanceTimersByTimeAsync(10); // the batch is exported
    expect(exporter.batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1980);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(30);
    expect(errors).toHaveLength(1);
  });

  it('clamps maxExportBatchSize to maxQueueSize with a diag warning', async () => {
    const warnings: string[] = [];
    diag.setLogger({ warn: (m: string) => warnings.push(m), error: () => undefined, info: () => undefined, debug: () => undefined, verbose: () => undefined }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      const exporter = new ScriptedExporter();
      const p = make({ exporter, maxQueueSize: 4, maxExportBatchSize: 10, scheduledDelayMillis: 60_000 });
      for (const r of makeRecords(4)) p.onEmit(r as never);
      await p.forceFlush();
      expect(exporter.batches.map((b) => b.length)).toEqual([4]);
      expect(warnings.some((w) => /maxExportBatchSize/.test(w))).toBe(true);
    } finally {
      diag.disable();
    }
  });
});

describe('OTLPLogExporter({ concurrencyLimit: 1 }) behind our processor', () => {
  it('delivers the batches queued behind a request that is never answered, once the exporter gives up on it', async () => {
    let first = true;
    const received: string[] = [];
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (first) {
          first = false;
          held.push(res); // never answered
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<{ body: { stringValue: string } }> }> }> };
        for (const rl of body.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) received.push(r.body.stringValue);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const port = await listenOnLoopback(server);
    try {
      // The exporter ends its own request at 300 ms; the processor's timeout is left at its default.
      const exporter = new OTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs`, concurrencyLimit: 1, timeoutMillis: 300 });
      const p = new AstralogBatchLogRecordProcessor({ exporter, maxBatchSize: 10 });
      const provider = new LoggerProvider({ processors: [p] });
      const logger = provider.getLogger('t');
      for (let i = 0; i < 50; i++) logger.emit({ body: `line ${i}` });
      await vi.waitFor(() => expect(received).toHaveLength(40), { timeout: 10_000 });
      // The last answer reaches the processor a moment after the server counted its records.
      await vi.waitFor(() => expect(p.stats()).toMatchObject({ exported: 40, dropped: { exportFailed: 10 } }), { timeout: 10_000 });
      expect(received).toHaveLength(40);
      await provider.shutdown();
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('delivers every record exactly once', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const exporter = new OTLPLogExporter({ url: `${receiver.url}/v1/logs`, concurrencyLimit: 1 });
      const p = new AstralogBatchLogRecordProcessor({ exporter, maxBatchSize: 100 });
      const provider = new LoggerProvider({ processors: [p] });
      const logger = provider.getLogger('t');
      for (let i = 0; i < 2000; i++) logger.emit({ body: `line ${i}` });
      await provider.shutdown();
      const bodies = receiver.records.map((r) => r.body?.stringValue);
      expect(new Set(bodies).size).toBe(2000);
      expect(bodies).toHaveLength(2000);
      expect(p.stats()).toMatchObject({ emitted: 2000, exported: 2000 });
    } finally {
      await receiver.close();
    }
  });
});
