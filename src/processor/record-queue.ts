import type { SpanContext } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { Level } from '../ground/levels.ts';
import { AstralogLogRecord, type RecordOrigin } from '../record.ts';
import { BoundedQueue, QueueChunk } from './bounded-queue.ts';

type Attributes = Record<string, unknown>;

/** A queue chunk with the columns a record's fields are kept in. */
class RecordChunk extends QueueChunk<ReadableLogRecord | Attributes> {
  readonly times: Float64Array;
  /** A slot's level when it holds a record's fields (its attributes); undefined when it holds a record object. */
  readonly levels: Array<Level | undefined>;
  readonly bodies: unknown[];
  readonly spans: Array<SpanContext | undefined>;

  constructor(capacity: number) {
    super(capacity);
    this.times = new Float64Array(capacity);
    this.levels = new Array<Level | undefined>(capacity).fill(undefined);
    this.bodies = new Array<unknown>(capacity).fill(undefined);
    this.spans = new Array<SpanContext | undefined>(capacity).fill(undefined);
  }
}

/**
 * The processor's queue of records. A record logged through our client is kept as its fields, in
 * columns of the queue's chunks (its time in a Float64Array; its level, body and span context in
 * arrays; its attributes in the slot), and becomes a record object only when shifted for export.
 * A synchronous burst holds every record until the event loop turns: objects held that long are
 * copied by V8's scavenges and promoted, while the columns are written once (bench/RESULTS.md,
 * "Synchronous burst"). Records of any other origin (an OpenTelemetry Logger) are kept as they are.
 */
export class RecordQueue extends BoundedQueue<ReadableLogRecord, ReadableLogRecord | Attributes, RecordChunk> {
  /** The origin of the records kept as fields: one client's, the first one pushed. */
  private origin: RecordOrigin | undefined;

  override push(record: ReadableLogRecord, bytes: number): boolean {
    const chunk = this.claim(bytes);
    if (chunk === undefined) return false;
    const at = chunk.written - 1;
    chunk.slots[at] = record;
    chunk.levels[at] = undefined;
    return true;
  }

  /** Appends a record given by its fields if it fits the budget; returns false (and changes nothing) otherwise. */
  pushFields(origin: RecordOrigin, timeMs: number, level: Level, body: unknown, attributes: Attributes, spanContext: SpanContext | undefined, bytes: number): boolean {
    this.origin ??= origin;
    if (origin !== this.origin) return this.push(new AstralogLogRecord(timeMs, level, body, attributes, spanContext, origin), bytes);
    const chunk = this.claim(bytes);
    if (chunk === undefined) return false;
    const at = chunk.written - 1;
    chunk.slots[at] = attributes;
    chunk.times[at] = timeMs;
    chunk.levels[at] = level;
    chunk.bodies[at] = body;
    chunk.spans[at] = spanContext;
    return true;
  }

  protected override newChunk(capacity: number): RecordChunk {
    return new RecordChunk(capacity);
  }

  protected override itemAt(chunk: RecordChunk, at: number): ReadableLogRecord {
    const level = chunk.levels[at];
    const held = chunk.slots[at];
    if (level === undefined) return held as ReadableLogRecord;
    return new AstralogLogRecord(chunk.times[at] as number, level, chunk.bodies[at], held as Attributes, chunk.spans[at], this.origin as RecordOrigin);
  }

  protected override vacate(chunk: RecordChunk, at: number): void {
    chunk.slots[at] = undefined;
    chunk.bodies[at] = undefined;
    chunk.spans[at] = undefined;
  }
}
