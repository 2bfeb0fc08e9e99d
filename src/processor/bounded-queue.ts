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

/**
 * A FIFO ring buffer whose items count against a QueueBudget. Pushing never allocates once the
 * buffer has grown to its working size: it is the emitting caller's path.
 * Items get consecutive sequence numbers as they are pushed; the head's is `headSeq`.
 */
export class BoundedQueue<T> {
  readonly budget: QueueBudget;
  private items: Array<T | undefined>;
  private sizes: Float64Array;
  private head = 0;
  private count = 0;
  /** Sequence number of the head item (= items ever shifted). */
  private shifted = 0;

  constructor(budget: QueueBudget) {
    this.budget = budget;
    // Start small and double: a quiet service should not pay for a 100k-slot buffer.
    const initial = Math.min(budget.maxItems, 1024);
    this.items = emptySlots<T>(initial);
    this.sizes = new Float64Array(initial);
  }

  get length(): number {
    return this.count;
  }

  /** Sequence number of the item at the head; the next item pushed gets headSeq + length. */
  get headSeq(): number {
    return this.shifted;
  }

  /** Appends if it fits the budget; returns false (and changes nothing) otherwise. */
  push(item: T, bytes: number): boolean {
    const budget = this.budget;
    if (!budget.fits(bytes)) return false;
    budget.take(bytes);
    if (this.count === this.items.length) this.grow();
    let tail = this.head + this.count;
    if (tail >= this.items.length) tail -= this.items.length;
    this.items[tail] = item;
    this.sizes[tail] = bytes;
    this.count++;
    return true;
  }

  /**
   * Removes up to `max` items from the head, appending them (and their sizes) to the arrays given.
   * Returns the bytes they held, given back to the budget.
   */
  shiftInto(max: number, into?: T[], sizesInto?: number[]): number {
    const n = Math.min(max, this.count);
    const capacity = this.items.length;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      into?.push(this.items[this.head] as T);
      sizesInto?.push(this.sizes[this.head] as number);
      bytes += this.sizes[this.head] as number;
      this.items[this.head] = undefined; // let the record be collected once exported
      this.head = (this.head + 1) % capacity;
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

  private grow(): void {
    const capacity = this.items.length;
    const next = Math.min(this.budget.maxItems, Math.max(16, capacity * 2));
    const items = emptySlots<T>(next);
    const sizes = new Float64Array(next);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) % capacity;
      items[i] = this.items[from];
      sizes[i] = this.sizes[from] as number;
    }
    this.items = items;
    this.sizes = sizes;
    this.head = 0;
  }
}

/**
 * Slots for a ring: filled, so that every ring array has the same shape (V8's packed elements kind)
 * from the start. A fresh `new Array(n)` had another (holey, small integers), and replacing the ring
 * with one on growth threw away the optimised code that reads the ring (shiftInto).
 */
function emptySlots<T>(n: number): Array<T | undefined> {
  return new Array<T | undefined>(n).fill(undefined);
}
