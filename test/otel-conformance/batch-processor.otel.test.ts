import { ExportResultCode, loggingErrorHandler, setGlobalErrorHandler, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AstralogBatchLogRecordProcessorOptions } from '../../src/config/processor-config.ts';
import { AstralogBatchLogRecordProcessor } from '../../src/processor/processor.ts';
import { makeRecord } from '../support/records.ts';

// OpenTelemetry JS's own tests of its BatchLogRecordProcessor
// (experimental/packages/sdk-logs/test/common/export/BatchLogRecordProcessor.test.ts, at
// 61126358cb), run against ours behind the same foreign exporters. Each test keeps the original's
// name, steps and assertions; sinon and node:assert become vitest. Where the original reads a
// private field of the stock class, the assertion reads what ours shows of the same thing (its
// stats, or what reaches the exporter). Where ours behaves differently on purpose, the test says
// so and asserts ours; the README lists these differences. Left out: `onShutdown` (a hook of the
// stock base class for its subclasses).

const createLogRecord = (resource?: Resource): ReadableLogRecord => makeRecord({ body: 'body', ...(resource === undefined ? {} : { resource }) });
const yieldFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class TestMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function withResolvers<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

class BatchLogRecordProcessor extends AstralogBatchLogRecordProcessor {
  constructor(options: AstralogBatchLogRecordProcessorOptions) {
    super(options);
  }
}

describe('BatchLogRecordProcessorBase (OpenTelemetry JS tests, run against ours)', () => {
  const defaultBufferConfig = {
    maxExportBatchSize: 5,
    scheduledDelayMillis: 2500,
  };
  let exporter: InMemoryLogRecordExporter;

  beforeEach(() => {
    exporter = new InMemoryLogRecordExporter();
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true); // our own drop lines
  });

  afterEach(() => {
    exporter.reset();
    vi.useRealTimers();
    vi.restoreAllMocks();
    setGlobalErrorHandler(loggingErrorHandler());
  });

  describe('constructor', () => {
    it('should create a BatchLogRecordProcessor instance', () => {
      const processor = new BatchLogRecordProcessor({ exporter });
      expect(processor).toBeInstanceOf(BatchLogRecordProcessor);
      void processor.shutdown();
    });

    it('should create a BatchLogRecordProcessor instance with config', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const bufferConfig = {
        maxExportBatchSize: 5,
        scheduledDelayMillis: 2500,
        exportTimeoutMillis: 2000,
        maxQueueSize: 200,
      };
      const processor = new BatchLogRecordProcessor({ exporter, ...bufferConfig });
      expect(processor).toBeInstanceOf(BatchLogRecordProcessor);
      // _maxExportBatchSize: batches of 5
      for (let i = 0; i < 7; i++) processor.onEmit(createLogRecord());
      await vi.advanceTimersByTimeAsync(0);
      expect(exporter.getFinishedLogRecords()).toHaveLength(5);
      // _scheduledDelayMillis: the partial batch leaves at 2500 ms, not before
      await vi.advanceTimersByTimeAsync(2499);
      expect(exporter.getFinishedLogRecords()).toHaveLength(5);
      await vi.advanceTimersByTimeAsync(1);
      expect(exporter.getFinishedLogRecords()).toHaveLength(7);
      // _maxQueueSize: 200 held at most
      exporter.export = () => undefined; // hangs from now on
      for (let i = 0; i < 210; i++) processor.onEmit(createLogRecord());
      expect(processor.stats().dropped.queueFull).toBe(10);
      // _exportTimeoutMillis: an export that never calls back is given up on at 2000 ms
      const errors: unknown[] = [];
      setGlobalErrorHandler((e) => errors.push(e));
      await vi.advanceTimersByTimeAsync(1999);
      expect(errors).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(errors).toHaveLength(1);
      void processor.shutdown();
    });

    it('should create a BatchLogRecordProcessor instance with empty config', async () => {
      // Ours has its own defaults (README): maxBatchSize 500 (stock 512), maxQueueSize 200000
      // (stock 2048), flushIntervalMs 1000 (as stock), exportTimeoutMs 10000 (stock 30000).
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const processor = new BatchLogRecordProcessor({ exporter });
      expect(processor).toBeInstanceOf(BatchLogRecordProcessor);
      for (let i = 0; i < 501; i++) processor.onEmit(createLogRecord());
      await vi.advanceTimersByTimeAsync(0);
      expect(exporter.getFinishedLogRecords()).toHaveLength(500);
      await vi.advanceTimersByTimeAsync(999);
      expect(exporter.getFinishedLogRecords()).toHaveLength(500);
      await vi.advanceTimersByTimeAsync(1);
      expect(exporter.getFinishedLogRecords()).toHaveLength(501);
      void processor.shutdown();
    });

    it('maxExportBatchSize must be smaller or equal to maxQueueSize', async () => {
      const bufferConfig = {
        maxExportBatchSize: 200,
        maxQueueSize: 100,
      };
      const processor = new BatchLogRecordProcessor({ exporter, ...bufferConfig });
      // _maxExportBatchSize === _maxQueueSize: a full queue leaves as one batch of 100
      for (let i = 0; i < 100; i++) processor.onEmit(createLogRecord());
      await yieldFor(0);
      expect(exporter.getFinishedLogRecords()).toHaveLength(100);
      await processor.shutdown();
    });
  });

  describe('onEmit', () => {
    it('should export the log records with buffer size reached', async () => {
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      // Add logs up to maxExportBatchSize - 1 (should not trigger export yet)
      for (let i = 0; i < defaultBufferConfig.maxExportBatchSize - 1; i++) {
        const logRecord = createLogRecord();
        expect(exporter.getFinishedLogRecords()).toHaveLength(0);
        processor.onEmit(logRecord);
        expect(exporter.getFinishedLogRecords()).toHaveLength(0);
      }
      // Add the final log that reaches maxExportBatchSize (should trigger immediate export)
      processor.onEmit(createLogRecord());
      await yieldFor(10);
      // Should now have exported the batch immediately
      expect(exporter.getFinishedLogRecords()).toHaveLength(defaultBufferConfig.maxExportBatchSize);
      await processor.shutdown();
      expect(exporter.getFinishedLogRecords()).toHaveLength(0);
    });

    it('should export immediately when maxExportBatchSize is reached', async () => {
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      const exportSpy = vi.spyOn(exporter, 'export');
      // Add logs up to maxExportBatchSize - 1
      for (let i = 0; i < defaultBufferConfig.maxExportBatchSize - 1; i++) {
        processor.onEmit(createLogRecord());
        expect(exporter.getFinishedLogRecords()).toHaveLength(0);
        expect(exportSpy).not.toHaveBeenCalled();
      }
      // Add the final log that should trigger immediate export
      processor.onEmit(createLogRecord());
      await yieldFor(0);
      expect(exportSpy).toHaveBeenCalledTimes(1);
      expect(exporter.getFinishedLogRecords()).toHaveLength(defaultBufferConfig.maxExportBatchSize);
      await processor.shutdown();
    });

    it('should export immediately without waiting for timer when batch size reached', async () => {
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig, scheduledDelayMillis: 10000 });
      const exportSpy = vi.spyOn(exporter, 'export');
      for (let i = 0; i < defaultBufferConfig.maxExportBatchSize; i++) processor.onEmit(createLogRecord());
      await yieldFor(0);
      expect(exportSpy).toHaveBeenCalledTimes(1);
      expect(exporter.getFinishedLogRecords()).toHaveLength(defaultBufferConfig.maxExportBatchSize);
      await processor.shutdown();
    });

    it('should handle multiple immediate exports when batches fill up', async () => {
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      const exportSpy = vi.spyOn(exporter, 'export');
      const totalLogs = defaultBufferConfig.maxExportBatchSize * 2;
      for (let i = 0; i < totalLogs; i++) processor.onEmit(createLogRecord());
      await yieldFor(10);
      expect(exportSpy).toHaveBeenCalledTimes(2);
      expect(exporter.getFinishedLogRecords()).toHaveLength(totalLogs);
      await processor.shutdown();
    });

    it('should still use timer for partial batches after immediate export', async () => {
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig, scheduledDelayMillis: 100 });
      const exportSpy = vi.spyOn(exporter, 'export');
      for (let i = 0; i < defaultBufferConfig.maxExportBatchSize; i++) processor.onEmit(createLogRecord());
      await yieldFor(0);
      expect(exportSpy).toHaveBeenCalledTimes(1);
      const exportedSoFar = exporter.getFinishedLogRecords().length;
      expect(exportedSoFar).toBe(defaultBufferConfig.maxExportBatchSize);
      // Add one more log (partial batch)
      processor.onEmit(createLogRecord());
      expect(exportSpy).toHaveBeenCalledTimes(1);
      // Wait for timer to trigger the partial batch export
      await vi.waitFor(() => expect(exportSpy).toHaveBeenCalledTimes(2), { timeout: 2000 });
      expect(exporter.getFinishedLogRecords()).toHaveLength(exportedSoFar + 1);
      await processor.shutdown();
    });

    it('should force flush when timeout exceeded for partial batches', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      const partialBatchSize = Math.floor(defaultBufferConfig.maxExportBatchSize / 2);
      for (let i = 0; i < partialBatchSize; i++) {
        processor.onEmit(createLogRecord());
        expect(exporter.getFinishedLogRecords()).toHaveLength(0);
      }
      await vi.advanceTimersByTimeAsync(defaultBufferConfig.scheduledDelayMillis + 1000);
      expect(exporter.getFinishedLogRecords()).toHaveLength(partialBatchSize);
      void processor.shutdown();
    });

    it('should not export empty log record lists', async () => {
      const spy = vi.spyOn(exporter, 'export');
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      expect(exporter.getFinishedLogRecords()).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(defaultBufferConfig.scheduledDelayMillis + 1000);
      expect(exporter.getFinishedLogRecords()).toHaveLength(0);
      expect(spy).not.toHaveBeenCalled();
      void processor.shutdown();
    });

    it('should export each log record exactly once with buffer size  reached multiple times', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      const totalLogRecords = defaultBufferConfig.maxExportBatchSize * 2;
      for (let i = 0; i < totalLogRecords; i++) processor.onEmit(createLogRecord());
      processor.onEmit(createLogRecord());
      for (let i = 0; i < 3; i++) await vi.advanceTimersByTimeAsync(defaultBufferConfig.scheduledDelayMillis + 10);
      expect(exporter.getFinishedLogRecords()).toHaveLength(totalLogRecords + 1);
      vi.useRealTimers();
      await processor.shutdown();
      expect(exporter.getFinishedLogRecords()).toHaveLength(0);
    });

    it('should call globalErrorHandler when exporting fails', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const expectedError = new Error('Exporter failed');
      vi.spyOn(exporter, 'export').mockImplementation((_, callback) => {
        setTimeout(() => callback({ code: ExportResultCode.FAILED, error: expectedError }), 0);
      });
      const errorHandlerSpy = vi.fn();
      setGlobalErrorHandler(errorHandlerSpy);
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      for (let i = 0; i < defaultBufferConfig.maxExportBatchSize; i++) processor.onEmit(createLogRecord());
      await vi.advanceTimersByTimeAsync(defaultBufferConfig.scheduledDelayMillis + 1000);
      expect(errorHandlerSpy).toHaveBeenCalledTimes(1);
      expect(errorHandlerSpy).toHaveBeenCalledWith(expectedError);
      void processor.shutdown();
    });

    it('should call globalErrorHandler when export exceeds timeout', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const exportTimeoutMillis = 1000;
      vi.spyOn(exporter, 'export').mockImplementation(() => {
        // never call the callback to simulate a hung export: the timeout should trigger instead
      });
      const errorHandlerSpy = vi.fn();
      setGlobalErrorHandler(errorHandlerSpy);
      const processor = new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 1, scheduledDelayMillis: 2500, exportTimeoutMillis });
      processor.onEmit(createLogRecord());
      await vi.advanceTimersByTimeAsync(exportTimeoutMillis + 100);
      expect(errorHandlerSpy).toHaveBeenCalledTimes(1);
      expect(errorHandlerSpy.mock.calls[0]?.[0]).toBeInstanceOf(Error);
      // Stock's message is 'Timeout'; ours says how long it waited.
      expect((errorHandlerSpy.mock.calls[0]?.[0] as Error).message).toBe('log record export did not complete within 1000 ms');
      void processor.shutdown();
    });

    it('should drop logRecords when there are more logRecords than "maxQueueSize"', () => {
      const maxQueueSize = 6;
      const maxExportBatchSize = 20; // Will be clamped to maxQueueSize (6) by constructor
      const processor = new BatchLogRecordProcessor({ exporter, maxQueueSize, maxExportBatchSize });
      // Ours never exports inside onEmit: no export can run during this loop.
      const logRecord = createLogRecord();
      for (let i = 0; i < maxQueueSize + 5; i++) processor.onEmit(logRecord);
      // _finishedLogRecords.length === maxQueueSize
      expect(processor.stats()).toMatchObject({ queued: maxQueueSize, dropped: { queueFull: 5 } });
      void processor.shutdown();
    });
  });

  describe('forceFlush', () => {
    it('should force flush on demand', async () => {
      const processor = new BatchLogRecordProcessor({ exporter, ...defaultBufferConfig });
      const partialBatchSize = Math.floor(defaultBufferConfig.maxExportBatchSize / 2);
      for (let i = 0; i < partialBatchSize; i++) processor.onEmit(createLogRecord());
      expect(exporter.getFinishedLogRecords()).toHaveLength(0);
      await processor.forceFlush();
      expect(exporter.getFinishedLogRecords()).toHaveLength(partialBatchSize);
      await processor.shutdown();
    });

    it('should call an async callback when flushing is complete', async () => {
      const processor = new BatchLogRecordProcessor({ exporter });
      processor.onEmit(createLogRecord());
      await processor.forceFlush();
      expect(exporter.getFinishedLogRecords()).toHaveLength(1);
      await processor.shutdown();
    });

    it('should wait for pending resource on flush', async () => {
      const processor = new BatchLogRecordProcessor({ exporter });
      const asyncResource = resourceFromAttributes({ async: new Promise<string>((resolve) => setTimeout(() => resolve('fromasync'), 1)) });
      processor.onEmit(createLogRecord(asyncResource));
      await processor.forceFlush();
      const exportedLogs = exporter.getFinishedLogRecords();
      expect(exportedLogs).toHaveLength(1);
      expect(exportedLogs[0]?.resource.attributes['async']).toBe('fromasync');
      await processor.shutdown();
    });

    it('should call forceFlush on exporter when export is in progress', async () => {
      let exportCallback: ((result: ExportResult) => void) | undefined;
      const customExporter: LogRecordExporter = {
        export: (_logs, callback) => {
          exportCallback = callback; // keep export pending, so that we can resolve it later
        },
        shutdown: async () => {},
        forceFlush: async () => {},
      };
      const forceFlushSpy = vi.spyOn(customExporter, 'forceFlush');
      const processor = new BatchLogRecordProcessor({ exporter: customExporter, maxExportBatchSize: 1, scheduledDelayMillis: 2500 });
      processor.onEmit(createLogRecord());
      await yieldFor(0);
      expect(exportCallback).toBeDefined(); // export in progress
      const forceFlushPromise = processor.forceFlush();
      await yieldFor(0);
      expect(forceFlushSpy).toHaveBeenCalledTimes(1);
      exportCallback?.({ code: ExportResultCode.SUCCESS });
      await forceFlushPromise;
      await processor.shutdown();
    });

    it('should not throw when in-flight export completes between awaits in _flushAll', async () => {
      let exportCallback: ((result: ExportResult) => void) | undefined;
      let resolveExporterForceFlush: (() => void) | undefined;
      const customExporter: LogRecordExporter = {
        export: (_logs, callback) => {
          exportCallback = callback;
        },
        shutdown: async () => {},
        forceFlush: () => new Promise<void>((resolve) => (resolveExporterForceFlush = resolve)),
      };
      const processor = new BatchLogRecordProcessor({ exporter: customExporter, maxExportBatchSize: 1, scheduledDelayMillis: 2500 });
      processor.onEmit(createLogRecord());
      await yieldFor(0);
      expect(exportCallback, 'expected exporter.export() to have been called').toBeDefined();
      const flushPromise = processor.forceFlush();
      await yieldFor(0);
      expect(resolveExporterForceFlush, 'expected exporter.forceFlush() to have been called').toBeDefined();
      exportCallback?.({ code: ExportResultCode.SUCCESS });
      await yieldFor(0);
      resolveExporterForceFlush?.();
      await flushPromise; // must resolve, not reject
      await processor.shutdown();
    });

    it('should not call forceFlush on exporter when queue is empty and no export in progress', async () => {
      const forceFlushSpy = vi.spyOn(exporter, 'forceFlush');
      const processor = new BatchLogRecordProcessor({ exporter });
      await processor.forceFlush();
      expect(forceFlushSpy).not.toHaveBeenCalled();
      await processor.shutdown();
    });
  });

  describe('shutdown', () => {
    it('should call an async callback when shutdown is complete', async () => {
      let exportedLogRecords = 0;
      vi.spyOn(exporter, 'export').mockImplementation((logRecords, callback) => {
        setTimeout(() => {
          exportedLogRecords = exportedLogRecords + logRecords.length;
          callback({ code: ExportResultCode.SUCCESS });
        }, 0);
      });
      const processor = new BatchLogRecordProcessor({ exporter });
      processor.onEmit(createLogRecord());
      await processor.shutdown();
      expect(exporter.getFinishedLogRecords()).toHaveLength(0);
      expect(exportedLogRecords).toBe(1);
    });
  });

  describe('Concurrency', () => {
    it('should only send a single batch at a time', async () => {
      const callbacks: ((result: ExportResult) => void)[] = [];
      const logRecords: ReadableLogRecord[] = [];
      const exporter: LogRecordExporter = {
        export: async (exportedLogRecords: ReadableLogRecord[], resultCallback: (result: ExportResult) => void) => {
          callbacks.push(resultCallback);
          logRecords.push(...exportedLogRecords);
        },
        shutdown: async () => {},
        forceFlush: async () => {},
      };
      const processor = new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 5, maxQueueSize: 6 });
      const totalLogRecords = 50;
      for (let i = 0; i < totalLogRecords; i++) processor.onEmit(createLogRecord());
      await yieldFor(0);
      expect(callbacks).toHaveLength(1);
      expect(logRecords).toHaveLength(5);
      callbacks[0]?.({ code: ExportResultCode.SUCCESS });
      await yieldFor(0);
      // Stock exports inside onEmit, so its first batch left during the loop and six more records
      // found room: a second batch of 5 follows here. Ours never exports on the caller's path: the
      // queue held 6 when the loop ended (44 dropped), the first batch took 5, and the one left
      // waits for the timer as a partial batch. Either way: one export at a time, the rest dropped.
      expect(callbacks).toHaveLength(1);
      expect(logRecords).toHaveLength(5);
      expect(processor.stats()).toMatchObject({ queued: 1, dropped: { queueFull: 44 } });
      await yieldFor(0);
      expect(callbacks).toHaveLength(1);
      void processor.shutdown();
    });
  });

  describe('Metrics', () => {
    it('should record metrics', async () => {
      const metricReader = new TestMetricReader();
      const meterProvider = new MeterProvider({ readers: [metricReader] });
      const processor = new BatchLogRecordProcessor({
        exporter,
        maxQueueSize: 1,
        maxExportBatchSize: 1,
        scheduledDelayMillis: 1_000_000_000, // Manually flush
        selfObsMeterProvider: meterProvider,
      });
      const exportStub = vi.spyOn(exporter, 'export');
      const export1 = withResolvers<ExportResult>();
      const export2 = withResolvers<ExportResult>();
      const firstExport = withResolvers<void>();
      exportStub
        .mockImplementationOnce((_logs, resultCallback) => {
          firstExport.resolve();
          void export1.promise.then((result) => resultCallback(result));
        })
        .mockImplementationOnce((_logs, resultCallback) => {
          void export2.promise.then((result) => resultCallback(result));
        });

      processor.onEmit(createLogRecord()); // exported a microtask later
      await firstExport.promise;
      processor.onEmit(createLogRecord()); // queue empty, export in progress: queued
      processor.onEmit(createLogRecord()); // queue full: dropped

      // Ours reports under its own scope and component name; the metric names, units and the
      // component type are the semantic conventions', as stock's.
      const collect = async () => {
        const { resourceMetrics } = await metricReader.collect();
        const scopeMetrics = resourceMetrics.scopeMetrics.find((sm) => sm.scope.name === '@astralog/otel');
        expect(scopeMetrics).toBeDefined();
        const metric = (name: string) => {
          const found = scopeMetrics?.metrics.find((m) => m.descriptor.name === name);
          expect(found, name).toBeDefined();
          return found?.dataPoints as DataPoint<number>[];
        };
        return { processed: metric('otel.sdk.processor.log.processed'), capacity: metric('otel.sdk.processor.log.queue.capacity'), size: metric('otel.sdk.processor.log.queue.size') };
      };
      const expectComponent = (point: DataPoint<number> | undefined) => {
        expect(point?.attributes['otel.component.type']).toBe('batching_log_processor');
        expect(String(point?.attributes['otel.component.name'])).toMatch(/^astralog_batching_log_processor\//);
      };

      let { processed, capacity, size } = await collect();
      expect(processed[0]?.value).toBe(1);
      expectComponent(processed[0]);
      expect(processed[0]?.attributes['error.type']).toBe('queue_full');
      expect(capacity[0]?.value).toBe(1);
      expectComponent(capacity[0]);
      expect(size[0]?.value).toBe(1);
      expectComponent(size[0]);
      expect(exportStub).toHaveBeenCalledTimes(1);

      export1.resolve({ code: ExportResultCode.SUCCESS });
      const error = new Error('Export failed');
      error.name = 'BackendError';
      export2.resolve({ code: ExportResultCode.FAILED, error });
      await processor.forceFlush();
      expect(exportStub).toHaveBeenCalledTimes(2);

      ({ processed, capacity, size } = await collect());
      const queueFullPoint = processed.find((p) => p.attributes['error.type'] === 'queue_full');
      expect(queueFullPoint?.value).toBe(1);
      expectComponent(queueFullPoint);
      const successPoint = processed.find((p) => p.attributes['error.type'] === undefined);
      expect(successPoint?.value).toBe(1);
      expectComponent(successPoint);
      // Stock names the failure by the exporter's error (BackendError); ours by why the records
      // were dropped (export_failed), the same word for every exporter.
      const failedPoint = processed.find((p) => p.attributes['error.type'] === 'export_failed');
      expect(failedPoint?.value).toBe(1);
      expectComponent(failedPoint);
      expect(capacity[0]?.value).toBe(1);
      expect(size[0]?.value).toBe(0);
      expectComponent(size[0]);
      await processor.shutdown();
    });
  });
});
