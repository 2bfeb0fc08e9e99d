import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { EncodedEvent, type EncodedExport } from '../exporter/encoded-event.ts';
import type { PreparedExport } from '../exporter/encoded-event.ts';
import { originField } from '../record.ts';

/** A record kept after a failed export. */
export interface RetryEntry {
  record: ReadableLogRecord;
  bytes: number;
  seq: number;
  /** Its requests that were sent and never answered: after one, it is sent once more, at most. */
  unanswered: number;
}

/**
 * What a batch holds: its records until the exporter has encoded them ('records'), then the
 * exporter's encoded copy ('encoded'), until it is let go ('released').
 */
export type BatchState = 'records' | 'encoded' | 'released';

/** Records taken from the queue (or the retry queue) to go out in one export. */
export class Batch {
  readonly count: number;
  /** The sequence number of its first record (its records are minSeq, minSeq+1, … unless it holds retries). */
  readonly minSeq: number;
  /**
   * What it holds of the byte budget: its records' estimates (a retry's own bytes), then its
   * encoded size once encoded.
   */
  bytes: number;
  /** Sends it (our exporter's), once the exporter has prepared it. */
  prepared: PreparedExport | undefined;
  /** Guards its export against an exporter that never calls back. */
  timer: NodeJS.Timeout | undefined;
  private records: ReadableLogRecord[] | undefined;
  private encoded: EncodedExport | undefined;
  private released = false;
  /** Estimated sizes of queued records (a retry's entry carries its own). */
  private readonly sizes: readonly number[];
  /** Set when the batch came from the retry queue. */
  private readonly entries: readonly RetryEntry[] | undefined;

  private constructor(records: ReadableLogRecord[], sizes: readonly number[], bytes: number, minSeq: number, entries: readonly RetryEntry[] | undefined) {
    this.records = records;
    this.sizes = sizes;
    this.bytes = bytes;
    this.minSeq = minSeq;
    this.entries = entries;
    this.count = records.length;
  }

  static ofQueued(records: ReadableLogRecord[], sizes: readonly number[], bytes: number, minSeq: number): Batch {
    return new Batch(records, sizes, bytes, minSeq, undefined);
  }

  static ofRetries(entries: readonly RetryEntry[], bytes: number): Batch {
    let minSeq = Number.POSITIVE_INFINITY;
    for (const e of entries) minSeq = Math.min(minSeq, e.seq);
    return new Batch(
      entries.map((e) => e.record),
      [],
      bytes,
      minSeq,
      entries,
    );
  }

  get state(): BatchState {
    return this.released ? 'released' : this.encoded !== undefined ? 'encoded' : 'records';
  }

  /** The records themselves, while it holds them (for an exporter that takes records). */
  get unencoded(): readonly ReadableLogRecord[] | undefined {
    return this.records;
  }

  /** Record i: itself, or its encoded copy once the record was let go. */
  recordAt(i: number): ReadableLogRecord {
    return this.records?.[i] ?? (this.encoded as EncodedExport).event(i);
  }

  /** Record i as a retry entry: its own, for a batch of retries. */
  entryAt(i: number): RetryEntry {
    const kept = this.entries?.[i];
    if (kept !== undefined) return kept;
    const record = this.recordAt(i);
    // An encoded copy holds its bytes; a record, what it was estimated at.
    const bytes = EncodedEvent.is(record) ? record.bytes.length : (this.sizes[i] as number);
    return { record, bytes, seq: this.minSeq + i, unanswered: 0 };
  }

  /** Whether its request is on the wire and may be stored: sent again, it could arrive twice. */
  get awaitingAnswer(): boolean {
    return this.encoded?.awaitingAnswer === true;
  }

  /** The resource of its records (for a record of our own sent beside them). */
  get resource(): ReadableLogRecord['resource'] | undefined {
    return this.records !== undefined ? originField(this.records[0], 'resource') : this.encoded?.resource;
  }

  /**
   * Takes what the exporter made of it: sent by `prepared.start()`; when it brought a usable
   * encoded copy, the records are let go and the batch holds the copy's size from now on.
   */
  encodedAs(prepared: PreparedExport): void {
    this.prepared = prepared;
    const encoded: Partial<EncodedExport> | null | undefined = prepared.encoded;
    if (encoded === null || typeof encoded !== 'object' || typeof encoded.event !== 'function' || typeof encoded.release !== 'function') return;
    this.encoded = encoded as EncodedExport;
    this.records = undefined;
    if (typeof encoded.bytes === 'number') this.bytes = encoded.bytes;
  }

  /** Lets go of its encoded events (an exporter's release must not throw out of here). */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      this.encoded?.release();
    } catch {
      // nothing held by us is left to free
    }
  }
}
