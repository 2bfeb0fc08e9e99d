import { reportError } from '../diagnostics.ts';

export type DropReason = 'queueFull' | 'tooLarge' | 'exportFailed' | 'rejected' | 'shutdown' | 'invalid' | 'unanswered';
export type DropCounts = Record<DropReason, number>;

export function emptyDropCounts(): DropCounts {
  return { queueFull: 0, tooLarge: 0, exportFailed: 0, rejected: 0, shutdown: 0, invalid: 0, unanswered: 0 };
}

const REASON_TEXT: Record<DropReason, string> = {
  queueFull: 'the queue was full',
  tooLarge: 'a record was larger than maxQueueBytes',
  exportFailed: 'exports kept failing',
  rejected: 'Astralog refused them (400/413)',
  shutdown: 'the processor shut down before they were sent',
  invalid: 'the processor could not handle them',
  unanswered: 'their requests were sent but never answered, so they may have arrived and are not sent again',
};

/**
 * Makes drops visible without flooding: one stderr line at the first drop, then at most one line
 * per interval with what was dropped meanwhile; and keeps the counts not yet told to Astralog
 * for the `astralog.sdk.dropped` summary event.
 */
export class DropReporter {
  private readonly intervalMs: number;
  private readonly describeLimits: () => string;
  private readonly lastFailure: () => string | undefined;
  private pendingWarning = emptyDropCounts();
  private pendingSummary = emptyDropCounts();
  private summarySince = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private lastWarningAt = 0;

  /** `lastFailure`: why sending last failed, if it did and nothing was delivered since. */
  constructor(intervalMs: number, describeLimits: () => string, lastFailure: () => string | undefined) {
    this.intervalMs = intervalMs;
    this.describeLimits = describeLimits;
    this.lastFailure = lastFailure;
  }

  /** While an ending (shutdown, exit) counts what it drops: one line at its end (flushWarning), not one per step. */
  private held = false;

  add(reason: DropReason, count: number): void {
    if (count <= 0) return;
    this.pendingWarning[reason] += count;
    this.pendingSummary[reason] += count;
    if (this.timer !== undefined || this.held) return;
    const wait = this.lastWarningAt + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.warn();
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.warn();
      }, wait);
      this.timer.unref();
    }
  }

  /** Counts not yet reported to Astralog, or undefined when there are none. */
  takeSummary(): { counts: DropCounts; since: number } | undefined {
    const counts = this.pendingSummary;
    if (total(counts) === 0) return undefined;
    const summary = { counts, since: this.summarySince };
    this.pendingSummary = emptyDropCounts();
    this.summarySince = Date.now();
    return summary;
  }

  /** Puts back counts whose summary could not be delivered. */
  restoreSummary(summary: { counts: DropCounts; since: number }): void {
    for (const reason of Object.keys(summary.counts) as DropReason[]) this.pendingSummary[reason] += summary.counts[reason];
    this.summarySince = Math.min(this.summarySince, summary.since);
  }

  /** Holds the lines back until flushWarning (an ending is under way). */
  hold(): void {
    this.held = true;
  }

  /** Prints what is pending now, in one line (at the end of a shutdown or an exit, so the last drops are said). */
  flushWarning(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.held = false;
    this.warn();
  }

  private warn(): void {
    const counts = this.pendingWarning;
    const n = total(counts);
    if (n === 0) return;
    this.pendingWarning = emptyDropCounts();
    this.lastWarningAt = Date.now();
    const parts = (Object.keys(counts) as DropReason[]).filter((r) => counts[r] > 0).map((r) => `${counts[r]} ${r} (${REASON_TEXT[r]})`);
    // The limits only where they were the cause.
    const limits = counts.queueFull + counts.tooLarge > 0 ? ` ${this.describeLimits()}` : '';
    // Records that were never sent: why sending failed, when it did (nothing listening, a name that
    // does not resolve, HTTP 503…), so that the line says what to fix.
    const failure = counts.shutdown + counts.exportFailed > 0 ? this.lastFailure() : undefined;
    const cause = failure === undefined ? '' : ` The last attempt to send failed: ${failure}.`;
    reportError(`dropped ${n} log record(s): ${parts.join(', ')}.${cause}${limits}`);
  }
}

export function total(counts: DropCounts): number {
  return counts.queueFull + counts.tooLarge + counts.exportFailed + counts.rejected + counts.shutdown + counts.invalid + counts.unanswered;
}
