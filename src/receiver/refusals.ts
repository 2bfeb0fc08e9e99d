/** One kind of refused request and how often it happened. */
export interface RefusalCount {
  status: number;
  reason: string;
  count: number;
  /** ISO time of the latest one. */
  last: string;
}

// Reasons come from the contract checks (never from the Authorization header, so never a key); the
// per-event ones name an index, which is folded so that the table stays small whatever clients send.
const MAX_KINDS = 50;
const MAX_REASON_LENGTH = 200;

/** Counts refused drain requests (401, 400, 413) by status and reason, in bounded memory. */
export class RefusalCounter {
  private readonly kinds = new Map<string, RefusalCount>();
  private totalCount = 0;

  add(status: number, reason: string): void {
    this.totalCount++;
    let text = reason.replace(/^events\[\d+\]/, 'events[i]');
    if (text.length > MAX_REASON_LENGTH) text = text.slice(0, MAX_REASON_LENGTH) + '…';
    let key = `${status} ${text}`;
    if (!this.kinds.has(key) && this.kinds.size >= MAX_KINDS) {
      text = 'other reasons';
      key = `${status} ${text}`;
    }
    const last = new Date().toISOString();
    const kind = this.kinds.get(key);
    if (kind === undefined) this.kinds.set(key, { status, reason: text, count: 1, last });
    else {
      kind.count++;
      kind.last = last;
    }
  }

  get total(): number {
    return this.totalCount;
  }

  /** Most frequent first. */
  list(): RefusalCount[] {
    return [...this.kinds.values()].map((k) => ({ ...k })).sort((a, b) => b.count - a.count || a.status - b.status);
  }
}
