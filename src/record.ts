import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/**
 * A log record made by this SDK itself (client calls, drop summaries), handed straight to the
 * processor: cheaper than the OTel Logger's record, and free of its attribute validation, which
 * would silently drop Errors, BigInts and Dates (the exporter makes every value safe instead).
 * The time is kept as epoch milliseconds and turned into an HrTime only when read, at export.
 */
export class AstralogLogRecord implements ReadableLogRecord {
  readonly timeMs: number;
  readonly severityText: string;
  readonly severityNumber: number;
  readonly body: unknown;
  readonly attributes: Record<string, unknown>;
  readonly spanContext: SpanContext | undefined;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly droppedAttributesCount = 0;

  constructor(
    timeMs: number,
    severityText: string,
    severityNumber: number,
    body: unknown,
    attributes: Record<string, unknown>,
    spanContext: SpanContext | undefined,
    resource: Resource,
    instrumentationScope: InstrumentationScope,
  ) {
    this.timeMs = timeMs;
    this.severityText = severityText;
    this.severityNumber = severityNumber;
    this.body = body;
    this.attributes = attributes;
    this.spanContext = spanContext;
    this.resource = resource;
    this.instrumentationScope = instrumentationScope;
  }

  get hrTime(): HrTime {
    const seconds = Math.floor(this.timeMs / 1000);
    return [seconds, Math.round((this.timeMs - seconds * 1000) * 1e6)];
  }

  get hrTimeObserved(): HrTime {
    return this.hrTime;
  }
}
