import { reportError, reportInfo } from '../diagnostics.ts';

/**
 * Says once when sending starts to fail and once when it works again, with what became of the
 * records meanwhile, instead of a line per failed export. A refused key or an untrusted certificate
 * is said by the exporter, which pauses sending for it: then this says nothing either way.
 */
export class OutageReporter {
  private since: number | undefined;
  private quiet = false;
  private droppedAtStart = 0;
  private readonly dropped: () => number;

  /** `dropped`: records dropped so far, for the count of those dropped during an outage. */
  constructor(dropped: () => number) {
    this.dropped = dropped;
  }

  /** An export failed; its records are kept for another attempt, or (shuttingDown) until the shutdown's deadline. */
  failed(cause: string, saidByExporter: boolean, shuttingDown: boolean): void {
    if (this.since !== undefined) return;
    this.since = Date.now();
    this.quiet = saidByExporter;
    this.droppedAtStart = this.dropped();
    if (this.quiet) return;
    reportError(
      shuttingDown
        ? `sending logs to Astralog fails (${cause}); what cannot be sent before the shutdown's deadline is dropped and counted.`
        : `sending logs to Astralog fails (${cause}). The records are kept and sent again, with backoff, as soon as it works; ` +
            'past maxQueueSize or maxQueueBytes, new ones are dropped and counted.',
    );
  }

  /** An export was delivered: the outage, if there was one, is over. */
  recovered(kept: number): void {
    if (this.since === undefined) return;
    const seconds = Math.round((Date.now() - this.since) / 100) / 10;
    const dropped = this.dropped() - this.droppedAtStart;
    this.since = undefined;
    if (this.quiet) return;
    reportInfo(
      `sending logs to Astralog works again after ${seconds} s: ${kept} record(s) still kept are being sent` + (dropped > 0 ? `; ${dropped} were dropped during the outage.` : '.'),
    );
  }
}
