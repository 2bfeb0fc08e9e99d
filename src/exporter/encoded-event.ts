import type { HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ExportOutcome } from '../ground/outcome.ts';
import type { RecordOrigin } from '../record.ts';

/**
 * One event as this SDK's exporter already encoded it, standing in for a record that was let go
 * once encoded (so that records die young instead of waiting for Astralog's answer). The exporter
 * writes its bytes as they are; the record fields only say where it came from.
 */
export class EncodedEvent implements ReadableLogRecord {
  readonly #bytes: Buffer;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;

  constructor(bytes: Buffer, origin: RecordOrigin) {
    this.#bytes = bytes;
    this.resource = origin.resource;
    this.instrumentationScope = origin.instrumentationScope;
  }

  /**
   * Whether `record` is one. A brand check: unlike instanceof, no Proxy trap runs, so a hostile
   * record (a revoked Proxy) cannot make it throw.
   */
  static is(record: unknown): record is EncodedEvent {
    return typeof record === 'object' && record !== null && #bytes in record;
  }

  /** The event's JSON, as in a request body. */
  get bytes(): Buffer {
    return this.#bytes;
  }

  get hrTime(): HrTime {
    return [0, 0];
  }

  get hrTimeObserved(): HrTime {
    return [0, 0];
  }

  get attributes(): Record<string, never> {
    return {};
  }

  get droppedAttributesCount(): number {
    return 0;
  }
}

/** The encoded events of one export, readable until released (see PREPARE_EXPORT in protocol.ts). */
export interface EncodedExport {
  /** The first record's resource, when it had one. */
  readonly resource: Resource | undefined;
  /** Memory the encoded events hold, in bytes. */
  readonly bytes: number;
  /** Event i of the export, copied out, for another attempt or a last delivery. */
  event(i: number): EncodedEvent;
  /** A request carrying these events is under way: sending them again could store them twice. */
  readonly awaitingAnswer: boolean;
  /** Its events are no longer needed: their bytes may be reused once the export has ended too. */
  release(): void;
}

/** An export encoded and ready to send: `start` sends it (once); `encoded` holds its events meanwhile. */
export interface PreparedExport {
  /** Undefined when nothing was encoded (no records, an exporter shut down, an encoding failure). */
  readonly encoded: EncodedExport | undefined;
  /** Sends the events (the first call only) and tells what became of each. Never rejects. */
  start(): Promise<ExportOutcome>;
}
