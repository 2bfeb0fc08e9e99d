import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { Level } from './ground/levels.ts';

/** Where records come from: shared by every record of one client, so each holds one reference. */
export interface RecordOrigin {
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
}

/** A record's resource or scope, read defensively (records may be hostile objects): undefined unless an object. */
export function originField<K extends keyof RecordOrigin>(record: ReadableLogRecord | undefined, key: K): RecordOrigin[K] | undefined {
  try {
    const value = record?.[key];
    return value !== null && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A log record made by this SDK itself (client calls, drop summaries), handed straight to the
 * processor: cheaper than the OTel Logger's record, and free of its attribute validation, which
 * would silently drop Errors, BigInts and Dates (the exporter makes every value safe instead).
 * The time is epoch milliseconds (an HrTime is built only when read, at export); the level and
 * origin are references to shared objects. The processor's queue keeps our client's records as
 * their fields and builds this object only when it takes them for export (RecordQueue).
 */
export class AstralogLogRecord implements ReadableLogRecord {
  readonly timeMs: number;
  readonly level: Level;
  readonly body: unknown;
  readonly attributes: Record<string, unknown>;
  readonly spanContext: SpanContext | undefined;
  readonly origin: RecordOrigin;

  constructor(timeMs: number, level: Level, body: unknown, attributes: Record<string, unknown>, spanContext: SpanContext | undefined, origin: RecordOrigin) {
    this.timeMs = timeMs;
    this.level = level;
    this.body = body;
    this.attributes = attributes;
    this.spanContext = spanContext;
    this.origin = origin;
  }

  get severityText(): string {
    return this.level.text;
  }

  get severityNumber(): number {
    return this.level.severity;
  }

  get resource(): Resource {
    return this.origin.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.origin.instrumentationScope;
  }

  get droppedAttributesCount(): number {
    return 0;
  }

  get hrTime(): HrTime {
    const seconds = Math.floor(this.timeMs / 1000);
    const nanos = Math.round((this.timeMs - seconds * 1000) * 1e6);
    // A sub-microsecond fraction can round up to a whole second: carry it (nanos stay below 1e9).
    return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
  }

  get hrTimeObserved(): HrTime {
    return this.hrTime;
  }
}
