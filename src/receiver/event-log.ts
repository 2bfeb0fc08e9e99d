import type { AstralogEvent } from './contract.ts';

export type StoredEvent = AstralogEvent & { received_at: string };

/**
 * The receiver's memory: at most `capacity` events in a ring (oldest overwritten and counted), each
 * with a sequence number so that a live view can resume where it left off.
 */
export class EventLog {
  readonly capacity: number;
  private readonly ring: Array<StoredEvent | undefined>;
  /** Sequence number of the next event; the first event is 1. */
  private next = 1;
  private droppedCount = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`maxEvents: expected a whole number of at least 1, got ${capacity}`);
    this.capacity = capacity;
    this.ring = new Array<StoredEvent | undefined>(capacity);
  }

  /** Stores the events and returns the sequence number of the first one. */
  push(events: readonly StoredEvent[]): number {
    const first = this.next;
    for (const event of events) {
      if (this.next > this.capacity) this.droppedCount++;
      this.ring[(this.next - 1) % this.capacity] = event;
      this.next++;
    }
    return first;
  }

  /** Events ever accepted. */
  get received(): number {
    return this.next - 1;
  }

  /** Events pushed out by newer ones. */
  get dropped(): number {
    return this.droppedCount;
  }

  get size(): number {
    return Math.min(this.received, this.capacity);
  }

  /** Sequence number of the oldest event kept. */
  get firstKept(): number {
    return this.next - this.size;
  }

  /** Events kept with a sequence number above `after`, oldest first. */
  since(after = 0): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (let seq = Math.max(after + 1, this.firstKept); seq < this.next; seq++) out.push(this.ring[(seq - 1) % this.capacity] as StoredEvent);
    return out;
  }
}
