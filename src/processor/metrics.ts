import type { Attributes, MeterProvider, ObservableResult } from '@opentelemetry/api';
import type { DropReason } from './drop-report.ts';

/** The Logs SDK's self-observability metrics for a log processor, named by the semantic conventions (otel.sdk.processor.log.*). */
const PROCESSED = 'otel.sdk.processor.log.processed';
const QUEUE_CAPACITY = 'otel.sdk.processor.log.queue.capacity';
const QUEUE_SIZE = 'otel.sdk.processor.log.queue.size';
const COMPONENT_TYPE = 'batching_log_processor';

/** error.type of a dropped record: the stock processor's `queue_full`, else our reason in snake case. */
const ERROR_TYPES: Readonly<Record<DropReason, string>> = {
  queueFull: 'queue_full',
  tooLarge: 'too_large',
  exportFailed: 'export_failed',
  rejected: 'rejected',
  shutdown: 'shutdown',
  invalid: 'invalid',
  unanswered: 'unanswered',
};

let instances = 0;

/**
 * Counts processed records by outcome and reports the queue's size and capacity, as the stock
 * BatchLogRecordProcessor does with its selfObsMeterProvider. Made only when a meter provider is
 * given: without one the processor does none of this work.
 */
export class ProcessorMetrics {
  private readonly processed;
  private readonly standard: Attributes;
  private readonly failed = new Map<DropReason, Attributes>();
  private readonly observeQueue: (result: ObservableResult) => void;
  private readonly queueSize;

  constructor(meterProvider: MeterProvider, capacity: number, queueSize: () => number) {
    const meter = meterProvider.getMeter('@astralog/otel');
    this.standard = { 'otel.component.type': COMPONENT_TYPE, 'otel.component.name': `astralog_${COMPONENT_TYPE}/${instances++}` };
    this.processed = meter.createCounter(PROCESSED, {
      unit: '{log_record}',
      description: 'The number of log records for which the processing has finished, either successful or failed.',
    });
    meter
      .createUpDownCounter(QUEUE_CAPACITY, {
        unit: '{log_record}',
        description: 'The maximum number of log records the queue of a given instance of an SDK log processor can hold.',
      })
      .add(capacity, this.standard);
    this.queueSize = meter.createObservableUpDownCounter(QUEUE_SIZE, {
      unit: '{log_record}',
      description: 'The number of log records in the queue of a given instance of an SDK log processor.',
    });
    this.observeQueue = (result) => result.observe(queueSize(), this.standard);
    this.queueSize.addCallback(this.observeQueue);
  }

  delivered(count: number): void {
    if (count > 0) this.processed.add(count, this.standard);
  }

  dropped(reason: DropReason, count: number): void {
    if (count <= 0) return;
    let attributes = this.failed.get(reason);
    if (attributes === undefined) this.failed.set(reason, (attributes = { ...this.standard, 'error.type': ERROR_TYPES[reason] }));
    this.processed.add(count, attributes);
  }

  shutdown(): void {
    this.queueSize.removeCallback(this.observeQueue);
  }
}
