/** Limits on item count and bytes, shared by every queue that draws on them. */
export class QueueBudget {
  readonly maxItems: number;
  readonly maxBytes: number;
  /** Items and bytes held by all its queues together (records by estimate, encoded batches by size). */
  items = 0;
  bytes = 0;
  /** Bytes of exports under way (their encoded bodies): no place in the queues, but memory held all the same. */
  inFlightBytes = 0;

  constructor(maxItems: number, maxBytes: number) {
    this.maxItems = maxItems;
    this.maxBytes = maxBytes;
  }

  fits(bytes: number): boolean {
    return this.items < this.maxItems && this.bytes + this.inFlightBytes + bytes <= this.maxBytes;
  }

  /** Whether anything is left of the byte bound. */
  hasRoom(): boolean {
    return this.bytes + this.inFlightBytes < this.maxBytes;
  }

  take(bytes: number, items = 1): void {
    this.items += items;
    this.bytes += bytes;
  }

  giveBack(items: number, bytes: number): void {
    this.items -= items;
    this.bytes = this.items === 0 ? 0 : this.bytes - bytes; // no float drift when empty
  }
}

/** Slots of the first chunk; each further chunk doubles, up to MAX_CHUNK_SLOTS (and maxItems). */
const FIRST_CHUNK_SLOTS = 1024;
const MAX_CHUNK_SLOTS = 4_096;

/** One stretch of a queue's storage: filled from the front, read from the front, never moved. */
export class QueueChunk<Slot> {
  readonly slots: Array<Slot | undefined>;
  readonly sizes: Float64Array;
  /** Slots written so far; of them, slots read (shifted). */
  written = 0;
  read = 0;

  constructor(capacity: number) {
    // Filled, so that every slot array has one shape (V8's packed elements kind) from the start.
    this.slots = new Array<Slot | undefined>(capacity).fill(undefined);
    this.sizes = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.sizes.length;
  }
}

/**
 * A FIFO queue whose items count against a QueueBudget, stored in chunks that are never copied:
 * a burst that grows it writes each item once (a ring grown by doubling copied them all, and
 * touched fresh memory for every copy). A queue that empties reuses its chunk, and keeps one spare
 * of the largest size, so a steady flow allocates nothing: this is the emitting caller's path.
 * Items get consecutive sequence numbers as they are pushed; the head's is `headSeq`.
 * A subclass may keep an item as something other than itself in its slot (`Slot`), with columns
 * of its own in its chunks (newChunk); it reads items back through itemAt.
 */
export class BoundedQueue<T, Slot = T, Chunk extends QueueChunk<Slot> = QueueChunk<Slot>> {
  readonly budget: QueueBudget;
  /** Oldest first; the last one is written to. Never empty. */
  private readonly chunks: Chunk[];
  /** An emptied chunk of the largest size, kept for the next one needed. */
  private spare: Chunk | undefined;
  private count = 0;
  /** Sequence number of the head item (= items ever shifted). */
  private shifted = 0;

  constructor(budget: QueueBudget) {
    this.budget = budget;
    // Start small: a quiet service should not pay for a large buffer.
    this.chunks = [this.newChunk(Math.max(1, Math.min(budget.maxItems, FIRST_CHUNK_SLOTS)))];
  }

  get length(): number {
    return this.count;
  }

  /** Sequence number of the item at the head; the next item pushed gets headSeq + length. */
  get headSeq(): number {
    return this.shifted;
  }

  /** Appends if it fits the budget; returns false (and changes nothing) otherwise. */
  push(item: Slot, bytes: number): boolean {
    const chunk = this.claim(bytes);
    if (chunk === undefined) return false;
    chunk.slots[chunk.written - 1] = item;
    return true;
  }

  /**
   * Removes up to `max` items from the head, appending them (and their sizes) to the arrays given.
   * Returns the bytes they held, given back to the budget.
   */
  shiftInto(max: number, into?: T[], sizesInto?: number[]): number {
    const n = Math.min(max, this.count);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const chunk = this.chunks[0] as Chunk;
      const at = chunk.read++;
      const size = chunk.sizes[at] as number;
      into?.push(this.itemAt(chunk, at));
      sizesInto?.push(size);
      bytes += size;
      this.vacate(chunk, at); // let the record be collected once exported
      if (chunk.read === chunk.written) this.emptied(chunk);
    }
    this.count -= n;
    this.shifted += n;
    this.budget.giveBack(n, bytes);
    return bytes;
  }

  /** Removes every item (their sequence numbers count as shifted). */
  clear(): void {
    this.shiftInto(this.count);
  }

  /**
   * Counts an item of `bytes` against the budget and gives it the next slot, `written - 1` of the
   * chunk returned (its size recorded); undefined when it does not fit.
   */
  protected claim(bytes: number): Chunk | undefined {
    const budget = this.budget;
    if (!budget.fits(bytes)) return undefined;
    budget.take(bytes);
    let chunk = this.chunks[this.chunks.length - 1] as Chunk;
    if (chunk.written === chunk.capacity) {
      const capacity = Math.min(this.budget.maxItems, MAX_CHUNK_SLOTS, chunk.capacity * 2); // never more than the queue may hold
      const spare = this.spare;
      this.spare = undefined;
      chunk = spare !== undefined && spare.capacity >= capacity ? spare : this.newChunk(capacity);
      this.chunks.push(chunk);
    }
    chunk.sizes[chunk.written++] = bytes;
    this.count++;
    return chunk;
  }

  protected newChunk(capacity: number): Chunk {
    return new QueueChunk<Slot>(capacity) as Chunk;
  }

  /** The item held in a chunk's slot. */
  protected itemAt(chunk: Chunk, at: number): T {
    return chunk.slots[at] as unknown as T;
  }

  /** Lets go of what a slot holds once its item is shifted. */
  protected vacate(chunk: Chunk, at: number): void {
    chunk.slots[at] = undefined;
  }

  /** A chunk whose every slot was read: reused when it is the last one, else let go (or kept spare). */
  private emptied(chunk: Chunk): void {
    chunk.read = 0;
    chunk.written = 0;
    if (this.chunks.length === 1) return;
    this.chunks.shift();
    if (this.spare === undefined || chunk.capacity > this.spare.capacity) this.spare = chunk;
  }
}
