/**
 * The flushes under way, each waiting until every record emitted before it (sequence numbers
 * below its target) has been attempted, or until its own timeout. Whoever awaits a flush wants
 * the process alive until it ends: the timers are ref'd, and each is bounded.
 */
export class FlushWaiters {
  private readonly waiting = new Set<{ target: number; resolve: () => void; timer: NodeJS.Timeout }>();

  /** Resolves once `settle` finds everything below `target` attempted, or after `timeoutMs`. */
  wait(target: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = { target, resolve, timer: setTimeout(() => this.release(waiter), timeoutMs) };
      this.waiting.add(waiter);
    });
  }

  /** Releases each flush whose records have all been attempted (`flushedThrough` its target). */
  settle(flushedThrough: (target: number) => boolean): void {
    for (const waiter of this.waiting) if (flushedThrough(waiter.target)) this.release(waiter);
  }

  private release(waiter: { resolve: () => void; timer: NodeJS.Timeout }): void {
    if (!this.waiting.delete(waiter as never)) return;
    clearTimeout(waiter.timer);
    waiter.resolve();
  }
}
