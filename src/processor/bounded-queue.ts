/**
 * A FIFO ring buffer bounded by item count and by (estimated) bytes. Pushing never allocates once
 * the buffer has grown to its working size: it is the emitting caller's path.
 * Items get consecutive sequence numbers as they are pushed; the head's is `headSeq`.
 */
export class BoundedQueue<T> {
  readonly maxItems: number;
  readonly maxBytes: number;
  private items: Array<T | undefined>;
  private sizes: Float64Array;
  private head = 0;
  private count = 0;
  private byteTotal = 0;
  /** Sequence number of the head item (= items ever shifted). */
  private shifted = 0;

  constructor(maxItems: number, maxBytes: number) {
    this.maxItems = maxItems;
    this.maxBytes = maxBytes;
    // Start small and double: a quiet service should not pay for a 100k-slot buffer.
    const initial = Math.min(maxItems, 1024);
    this.items = new Array<T | undefined>(initial);
    this.sizes = new Float64Array(initial);
  }

  get length(): number {
    return this.count;
  }

  get bytes(): number {
    return this.byteTotal;
  }

  /** Sequence number of the item at the head; the next item pushed gets headSeq + length. */
  get headSeq(): number {
    return this.shifted;
  }

  /** Appends if it fits; returns false (and changes nothing) otherwise. */
  push(item: T, bytes: number): boolean {
    if (this.count >= this.maxItems || this.byteTotal + bytes > this.maxBytes) return false;
    if (this.count === this.items.length) this.grow();
    let tail = this.head + this.count;
    if (tail >= this.items.length) tail -= this.items.length;
    this.items[tail] = item;
    this.sizes[tail] = bytes;
    this.count++;
    this.byteTotal += bytes;
    return true;
  }

  /** Removes up to `max` items from the head, appending them (and their sizes, if asked) to the given arrays. */
  shiftInto(max: number, into: T[], sizesInto?: number[]): void {
    const n = Math.min(max, this.count);
    const capacity = this.items.length;
    for (let i = 0; i < n; i++) {
      into.push(this.items[this.head] as T);
      sizesInto?.push(this.sizes[this.head] as number);
      this.byteTotal -= this.sizes[this.head] as number;
      this.items[this.head] = undefined; // let the record be collected once exported
      this.head = (this.head + 1) % capacity;
    }
    this.count -= n;
    this.shifted += n;
    if (this.count === 0) this.byteTotal = 0; // no float drift when empty
  }

  /** Removes every item (their sequence numbers count as shifted). */
  clear(): void {
    this.items.fill(undefined);
    this.shifted += this.count;
    this.head = 0;
    this.count = 0;
    this.byteTotal = 0;
  }

  private grow(): void {
    const capacity = this.items.length;
    const next = Math.min(this.maxItems, Math.max(16, capacity * 2));
    const items = new Array<T | undefined>(next);
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
