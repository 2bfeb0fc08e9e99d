import type { Context, SpanContext } from '@opentelemetry/api';
import type { ForceFlushOptions, LogRecordExporter, LogRecordProcessor, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { resolveProcessorConfig, type AstralogBatchLogRecordProcessorOptions, type ProcessorConfig } from '../config/processor-config.ts';
import { untilDeadline } from '../deadline.ts';
import { reportError } from '../diagnostics.ts';
import { bridgeApiLogs } from '../globals/api-logs-bridge.ts';
import type { PreparedExport } from '../exporter/encoded-event.ts';
import { allFailed, type ExportFailureReason, type ExportOutcome } from '../ground/outcome.ts';
import { RetryPolicy } from '../exporter/retry-policy.ts';
import { ABANDON_PENDING, ABORT_EXPORTS, EMIT_FIELDS, FLUSH_UNTIL, HAND_OVER_PENDING, LAST_FAILURE, PREPARE_EXPORT, REPORTS_PER_RECORD, SETTLE_HANDED_OVER } from '../protocol.ts';
import { AstralogLogRecord, type RecordOrigin } from '../record.ts';
import { LEVELS, type Level } from '../ground/levels.ts';
import { SDK_SCOPE } from '../version.ts';
import { Batch, type RetryEntry } from './batch.ts';
import { BoundedQueue, QueueBudget } from './bounded-queue.ts';
import { RecordQueue } from './record-queue.ts';
import { DropReporter, emptyDropCounts, total, type DropCounts, type DropReason } from './drop-report.ts';
import { estimateFieldsBytes, estimateRecordBytes } from './estimate.ts';
import { FlushWaiters } from './flush-waiters.ts';
import { ForeignExporter, reportExportError } from './foreign-exporter.ts';
import { ProcessorMetrics } from './metrics.ts';
import { OutageReporter } from './outage-report.ts';

export interface ProcessorStats {
  /** Records handed to onEmit (or by our client, as fields). */
  emitted: number;
  /** Records Astralog accepted. */
  exported: number;
  dropped: DropCounts;
  /** Records held: waiting for export, or kept after a failed one. */
  queued: number;
  /** Bytes held by queued records (estimated) and batches encoded ahead (encoded size). */
  queuedBytes: number;
  /** Bytes held by exports under way (their encoded bodies); queuedBytes + inFlightBytes stay within maxQueueBytes, but for one export's overshoot. */
  inFlightBytes: number;
  /** Of `queued`, records kept after a failed export, waiting for the exporter to recover. */
  retrying: number;
  /** Records in exports under way. emitted = exported + dropped + queued + inFlight, always. */
  inFlight: number;
}

/** An exporter that tells what became of each record (AstralogLogRecordExporter does). */
interface DetailedExporter extends LogRecordExporter {
  exportRecords(records: readonly ReadableLogRecord[], options?: { background?: boolean }): Promise<ExportOutcome>;
  /** Encodes at once and sends later, so that the records can be let go (AstralogLogRecordExporter). */
  [PREPARE_EXPORT]?(records: readonly ReadableLogRecord[], options?: { background?: boolean }): PreparedExport;
  [ABORT_EXPORTS]?(): void;
  /** forceFlush within the caller's deadline (a Date.now() time): nothing of it outlives that. */
  [FLUSH_UNTIL]?(deadline: number): Promise<void>;
  /** Why its last attempt to send failed, when none delivered since: said with records dropped unsent. */
  [LAST_FAILURE]?(): string | undefined;
}

type FailureReason = ExportFailureReason | 'foreign' | 'abandoned' | 'unanswered';

/** How a failure reads when the exporter gave no cause of its own. */
const FAILURE_TEXT: Record<FailureReason, string> = {
  unauthorized: 'the API key is refused',
  retriesExhausted: 'retries ran out of time',
  httpError: 'an unexpected answer',
  network: 'the endpoint cannot be used',
  shutdown: 'shut down',
  foreign: 'the exporter failed',
  abandoned: 'the exporter did not call back in time',
  unanswered: 'no answer',
};

const DROP_WARNING_INTERVAL_MS = 5_000;
const SHUTDOWN_MARGIN_MS = 100;
/** The stock BatchLogRecordProcessor's export timeout, ours behind any other exporter unless set. */
const STOCK_EXPORT_TIMEOUT_MS = 30_000;
/**
 * Encoded ahead at most, while every export slot is busy (see encodeAhead): 32 batches of the
 * default 500 records, a few MiB of encoded bytes. Larger batches are encoded ahead fewer at a
 * time; small ones no more than 32 (each holds a buffer of at least 16 KiB).
 */
const MAX_READY_RECORDS = 16_384;
const MAX_READY_BATCHES = 32;

/**
 * A batching LogRecordProcessor that bounds memory by record count and by estimated bytes, never
 * makes the caller wait, and accounts for every record: emitted = exported + dropped (by reason)
 * + queued + in flight, at every moment.
 *
 * Behind our exporter (which tells what became of each record) it runs several exports at once,
 * keeps and resends the records of failed ones and tells Astralog what it dropped. Behind any
 * other exporter it follows the Logs SDK specification: one export at a time, a failed batch
 * dropped (counted, and its error given to OpenTelemetry's global error handler), no records of
 * its own. Either way:
 *
 * - onEmit only estimates, enqueues or drops; exports start later (a microtask once a batch is
 *   full, the interval timer, flush), several at once up to maxConcurrentExports. Full batches that
 *   must wait for a slot are encoded at once all the same, so that their records die young.
 * - Records of a failed export are kept (within the same bounds) and sent again when the exporter
 *   recovers; sending backs off while it fails.
 * - forceFlush covers every record emitted before the call, even with other flushes or shutdown
 *   under way; shutdown flushes within its deadline, then drops and counts what is left.
 */
export class AstralogBatchLogRecordProcessor implements LogRecordProcessor {
  private readonly config: ProcessorConfig;
  private readonly exporter: LogRecordExporter;
  /** Our exporter (see the class comment); undefined behind any other. Decided once. */
  private readonly detailed: DetailedExporter | undefined;
  /** Where batches go: our exporter, or any other behind an adapter that reports as ours does. */
  private readonly target: DetailedExporter | ForeignExporter;
  /** Exports at once: maxConcurrentExports behind ours, one behind any other (the specification's rule). */
  private readonly maxExports: number;
  /**
   * How long an export may take before it is given up on. Ours bounds its exports itself (the
   * guard gives it a second more); any other gets exportTimeoutMs, by default the stock 30 s: the
   * OTLP exporters time out at 10 s themselves, and a processor giving up first would start the
   * next export while theirs is still under way (refused as over their concurrencyLimit).
   */
  private readonly exportLimitMs: number;
  /** maxQueueSize and maxQueueBytes, shared by the queue and the records kept for retry. */
  private readonly budget: QueueBudget;
  private readonly queue: RecordQueue;
  private readonly retry: BoundedQueue<RetryEntry>;
  private readonly inFlight = new Set<Batch>();
  /**
   * Full batches taken from the queue and encoded while every export slot was busy, oldest first.
   * Their records can die young; they still count as queued (and against the budget) until sent.
   */
  private readonly ready: Batch[] = [];
  private readonly counters = { emitted: 0, exported: 0, dropped: emptyDropCounts() };
  private readonly drops: DropReporter;
  private readonly outage: OutageReporter;
  /** The SDK's self-observability metrics, when a meter provider was given. */
  private readonly metrics: ProcessorMetrics | undefined;
  private readonly interval: NodeJS.Timeout;
  private readonly flushes = new FlushWaiters();
  /** Records with seq below this must be dispatched now (a flush is waiting for them). */
  private flushTarget = 0;
  /** Retry entries a flush asked to send once more, regardless of backoff. */
  private forcedRetries = 0;
  private drainRequested = false;
  private pumpScheduled = false;
  private pumping = false;
  private pumpAgain = false;
  private backoffUntil = 0;
  private consecutiveFailures = 0;
  /** The pause between sending rounds while exports fail: doubling from flushIntervalMs, 10 s at most. */
  private readonly backoff: RetryPolicy;
  private summaryInFlight = false;
  private lastResource: ReadableLogRecord['resource'] | undefined;
  private shutdownStarted = false;
  private shutdownPromise: Promise<void> | undefined;
  private handedOver = 0;
  /** Shutdown has counted what it could not send: later outcomes are dropped, not kept. */
  private shutdownDrained = false;

  constructor(options: AstralogBatchLogRecordProcessorOptions) {
    this.config = resolveProcessorConfig(options);
    this.exporter = this.config.exporter;
    const branded = (this.exporter as Partial<Record<typeof REPORTS_PER_RECORD, unknown>>)[REPORTS_PER_RECORD] === true;
    this.detailed = branded && typeof (this.exporter as Partial<DetailedExporter>).exportRecords === 'function' ? (this.exporter as DetailedExporter) : undefined;
    this.target = this.detailed ?? new ForeignExporter(this.exporter);
    this.maxExports = this.detailed !== undefined ? this.config.maxConcurrentExports : 1;
    this.exportLimitMs = this.detailed !== undefined ? this.config.exportTimeoutMs + 1_000 : this.config.exportTimeoutGiven ? this.config.exportTimeoutMs : STOCK_EXPORT_TIMEOUT_MS;
    this.budget = new QueueBudget(this.config.maxQueueSize, this.config.maxQueueBytes);
    this.queue = new RecordQueue(this.budget);
    this.retry = new BoundedQueue(this.budget);
    this.drops = new DropReporter(
      DROP_WARNING_INTERVAL_MS,
      () => `Limits: maxQueueSize=${this.config.maxQueueSize}, maxQueueBytes=${this.config.maxQueueBytes}.`,
      () => this.detailed?.[LAST_FAILURE]?.(),
    );
    this.outage = new OutageReporter(() => total(this.counters.dropped));
    const meterProvider = this.config.meterProvider;
    this.metrics = meterProvider === undefined ? undefined : new ProcessorMetrics(meterProvider, this.config.maxQueueSize, () => this.budget.items);
    this.backoff = new RetryPolicy({ baseDelayMs: this.config.flushIntervalMs, maxDelayMs: 10_000, jitter: 'none' });
    this.interval = setInterval(() => this.onInterval(), this.config.flushIntervalMs);
    this.interval.unref();
    // Records written through the older @opentelemetry/api-logs (winston-transport) reach the provider
    // this processor serves, once that provider is the global one (NodeSDK registers it at start).
    bridgeApiLogs();
  }

  /** The caller's path: estimate, then enqueue or drop. Nothing here waits, exports or throws. */
  onEmit(record: ReadableLogRecord, _context?: Context): void {
    this.counters.emitted++;
    if (this.shutdownStarted || record === null || typeof record !== 'object') return this.refuse();
    const bytes = estimateRecordBytes(record); // never throws
    this.enqueued(this.queue.push(record, bytes), bytes);
  }

  /** onEmit for our client: a record given by its fields, kept so until it is exported (see RecordQueue). @internal */
  [EMIT_FIELDS](origin: RecordOrigin, timeMs: number, level: Level, body: unknown, attributes: Record<string, unknown>, spanContext: SpanContext | undefined): void {
    this.counters.emitted++;
    if (this.shutdownStarted) return this.refuse();
    const bytes = estimateFieldsBytes(body, attributes); // never throws
    this.enqueued(this.queue.pushFields(origin, timeMs, level, body, attributes, spanContext, bytes), bytes);
  }

  /** After a push: a record that did not fit is dropped; a full batch gets its export scheduled. */
  private enqueued(pushed: boolean, bytes: number): void {
    if (!pushed) return this.drop(bytes > this.config.maxQueueBytes ? 'tooLarge' : 'queueFull', 1);
    if (this.queue.length >= this.config.maxBatchSize && !this.pumpScheduled) this.schedulePump();
  }

  private refuse(): void {
    this.drop(this.shutdownStarted ? 'shutdown' : 'invalid', 1);
  }

  /**
   * Sends every record emitted before the call, and waits for the exporter's own flush, all within
   * one deadline (timeoutMillis, default exportTimeoutMs + 1 s); resolves by it whatever the network
   * does. Exports still under way then go on in the background. Never rejects.
   */
  forceFlush(options?: ForceFlushOptions): Promise<void> {
    const timeoutMs = timeoutOf(options?.timeoutMillis, this.config.exportTimeoutMs + 1_000);
    const deadline = Date.now() + timeoutMs;
    // Nothing held and nothing under way: nothing to flush, the exporter included (as stock).
    const idle = this.budget.items === 0 && this.inFlight.size === 0;
    const flushed = this.flushPending(timeoutMs); // starts what it can at once
    // The exporter's own flush runs beside the exports under way, which it may hold up (as stock).
    return untilDeadline(deadline, idle ? flushed : Promise.all([flushed, this.exporterFlush(deadline)]).then(() => undefined));
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.shutdownOnce();
    return this.shutdownPromise;
  }

  /**
   * Hands over every record not yet delivered (queued, encoded ahead, kept for retry, in flight) for a last,
   * synchronous delivery as the process ends. Records then count as in flight until
   * SETTLE_HANDED_OVER says how many arrived. @internal
   */
  [HAND_OVER_PENDING](): ReadableLogRecord[] {
    const records: ReadableLogRecord[] = [];
    this.handedOver = this.takeEverything(records);
    return records;
  }

  /**
   * The process ends now and nothing more will be sent (a signal ends it): what is still held is
   * counted as dropped (unanswered when its request is on the wire) and said in one line. @internal
   */
  [ABANDON_PENDING](): void {
    this.handedOver = this.takeEverything(undefined);
    this[SETTLE_HANDED_OVER](0);
  }

  /**
   * Takes every record held out of the processor, copied into `records` when given (not when they are
   * abandoned), but those of a batch whose request is on the wire: dropped as unanswered. Returns how
   * many it took. The drop line waits until the hand-over is settled.
   */
  private takeEverything(records: ReadableLogRecord[] | undefined): number {
    this.drops.hold();
    let taken = 0;
    // In flight, then encoded ahead: oldest first.
    for (const batch of [...this.inFlight, ...this.takeAllReady()]) {
      clearTimeout(batch.timer);
      // Its request is on the wire and may still be stored: sent again, it could arrive twice.
      if (batch.awaitingAnswer) this.drop('unanswered', batch.count);
      else {
        taken += batch.count;
        if (records !== undefined) for (let i = 0; i < batch.count; i++) records.push(batch.recordAt(i));
      }
      batch.release(); // copied out: an export may still be writing them, and keeps its hold
    }
    this.inFlight.clear(); // a late answer then finds its batch gone and counts nothing twice
    this.budget.inFlightBytes = 0;
    taken += this.queue.length + this.retry.length;
    this.queue.shiftInto(this.queue.length, records);
    const entries: RetryEntry[] | undefined = records === undefined ? undefined : [];
    this.retry.shiftInto(this.retry.length, entries);
    for (const entry of entries ?? []) records?.push(entry.record);
    return taken;
  }

  /** @internal */
  [SETTLE_HANDED_OVER](delivered: number): void {
    const count = this.handedOver;
    this.handedOver = 0;
    this.delivered(Math.min(delivered, count));
    this.drop('shutdown', count - Math.min(delivered, count));
    this.drops.flushWarning(); // the process ends now: said at once, with what the hand-over dropped
  }

  stats(): ProcessorStats {
    return {
      emitted: this.counters.emitted,
      exported: this.counters.exported,
      dropped: { ...this.counters.dropped },
      queued: this.budget.items,
      queuedBytes: this.budget.bytes,
      inFlightBytes: this.budget.inFlightBytes,
      retrying: this.retry.length,
      inFlight: this.recordsInFlight(),
    };
  }

  /** Records in exports under way, and those handed over for a last delivery. */
  private recordsInFlight(): number {
    let n = this.handedOver;
    for (const batch of this.inFlight) n += batch.count;
    return n;
  }


  /** Removes the batches encoded ahead, giving back their share of the budget. */
  private takeAllReady(): Batch[] {
    const taken = this.ready.splice(0);
    for (const batch of taken) this.budget.giveBack(batch.count, batch.bytes);
    return taken;
  }

  private delivered(count: number): void {
    this.counters.exported += count;
    this.metrics?.delivered(count);
  }

  private drop(reason: DropReason, count: number): void {
    this.counters.dropped[reason] += count;
    this.metrics?.dropped(reason, count);
    this.drops.add(reason, count);
  }

  /**
   * A full batch starts exporting when the caller's current task ends (a microtask), not on a later
   * turn of the event loop: between the two, V8 runs its idle-time scavenge, which found the batch's
   * records alive, copied them, and grew the young generation. The fresh pages cost the calls that
   * followed about 150-200 ns each (bench hot path, Logger.emit through this processor). The
   * encoding then runs before the caller's later promise continuations, not after pending I/O
   * (the stock processor exports inside onEmit itself).
   */
  private schedulePump(): void {
    if (this.pumpScheduled || this.inFlight.size >= this.maxExports) return;
    this.pumpScheduled = true;
    queueMicrotask(this.scheduledPump);
  }

  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  private onInterval(): void {
    if (this.queue.length === 0 && this.retry.length === 0 && this.ready.length === 0) return;
    this.drainRequested = true;
    this.pump();
  }

  /** Starts exports while there is work and room. Re-entrant calls (a synchronous callback) loop here. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (this.inFlight.size < this.maxExports) {
          const batch = this.nextBatch();
          if (batch === undefined) break;
          this.startBatch(batch);
        }
        this.encodeAhead();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.flushes.settle(this.flushedThrough);
  }

  private nextBatch(): Batch | undefined {
    const max = this.config.maxBatchSize;
    if (this.forcedRetries > 0) {
      const n = Math.min(this.forcedRetries, max, this.retry.length);
      this.forcedRetries = n === 0 ? 0 : this.forcedRetries - n;
      if (n > 0) return this.takeRetries(n);
    }
    const ready = this.ready[0];
    const flushing = (ready !== undefined && ready.minSeq < this.flushTarget) || (this.queue.length > 0 && this.queue.headSeq < this.flushTarget);
    if (!flushing && Date.now() < this.backoffUntil) return undefined;
    if (!flushing && this.retry.length > 0) return this.takeRetries(Math.min(this.retry.length, max)); // oldest first
    if (ready !== undefined) {
      this.ready.shift();
      this.budget.giveBack(ready.count, ready.bytes);
      return ready;
    }
    if (this.queue.length === 0) {
      this.drainRequested = false;
      return undefined;
    }
    if (this.queue.length >= max || flushing || this.drainRequested) return this.takeQueued(max);
    return undefined;
  }

  private takeQueued(max: number): Batch {
    const minSeq = this.queue.headSeq;
    const records: ReadableLogRecord[] = [];
    const sizes: number[] = [];
    const bytes = this.queue.shiftInto(max, records, sizes);
    return Batch.ofQueued(records, sizes, bytes, minSeq);
  }

  private takeRetries(n: number): Batch {
    const entries: RetryEntry[] = [];
    const bytes = this.retry.shiftInto(n, entries);
    return Batch.ofRetries(entries, bytes);
  }

  /**
   * While every export slot is busy (or sending backs off), encodes the full batches waiting in the
   * queue, up to MAX_READY_RECORDS, so that their records die young: a record that waits in the
   * queue survives V8's scavenges, is copied each time and then promoted (trace-gc, 200k events to
   * a receiver that falls behind: 50-65 ms of scavenges per run, about 12% of the pipeline's CPU;
   * 23 ms with batches encoded ahead).
   */
  private encodeAhead(): void {
    if (this.detailed?.[PREPARE_EXPORT] === undefined || this.shutdownDrained) return;
    const max = this.config.maxBatchSize;
    // Within the byte bound only: an encoded batch can hold far more than its records' estimates.
    while (this.ready.length < MAX_READY_BATCHES && (this.ready.length + 1) * max <= MAX_READY_RECORDS && this.queue.length >= max && this.budget.hasRoom()) {
      const batch = this.takeQueued(max);
      // Encoding reads the resource: one whose attributes are still settling is encoded when sent.
      if (resourcesSettling(batch.unencoded ?? []) === undefined) this.prepare(batch);
      this.budget.take(batch.bytes, batch.count); // still held until it is sent
      this.ready.push(batch);
    }
  }

  /**
   * Has the exporter encode a batch now; batch.prepared.start() sends it. Never throws: when the exporter
   * gives nothing usable, the batch keeps its records and goes out through exportRecords.
   */
  private prepare(batch: Batch): void {
    try {
      // In the background: a flush holds the process open with its own (ref'd) deadline timer.
      const prepared: Partial<PreparedExport> | null | undefined = this.detailed?.[PREPARE_EXPORT]?.(batch.unencoded ?? [], { background: true });
      if (prepared === null || typeof prepared !== 'object' || typeof prepared.start !== 'function') return;
      batch.encodedAs(prepared as PreparedExport); // start() is called on it (a foreign one may be a method)
    } catch {
      // a foreign exporter's: the batch is then sent (and failed, if it throws again) through exportRecords
    }
  }

  private startBatch(batch: Batch): void {
    this.inFlight.add(batch);
    // Its encoded body is held until the export ends (its records' estimates until it has one).
    this.budget.inFlightBytes += batch.bytes;
    // Async resource attributes (a detector's) are settled before an export reads them.
    const settling = batch.unencoded === undefined ? undefined : resourcesSettling(batch.unencoded);
    if (settling === undefined) this.send(batch);
    else
      settling.then(
        () => this.send(batch),
        (error: unknown) => {
          reportExportError(error instanceof Error ? error : new Error(String(error)));
          this.send(batch); // without the attributes that failed
        },
      );
  }

  private send(batch: Batch): void {
    if (!this.inFlight.has(batch)) return; // shut down while its resources settled
    // Guard against an exporter that never calls back: its records are then counted as failed. From
    // here, as stock: waiting for a resource's attributes is not the export's time.
    const limitMs = this.exportLimitMs;
    batch.timer = setTimeout(() => this.abandon(batch, limitMs), limitMs);
    batch.timer.unref();
    try {
      // Encoded before it is sent: the records can die young instead of waiting for the answer.
      if (this.detailed !== undefined && batch.prepared === undefined) {
        const estimated = batch.bytes;
        this.prepare(batch);
        this.budget.inFlightBytes += batch.bytes - estimated;
      }
      // In the background: a flush holds the process open with its own (ref'd) deadline timer.
      const outcome = batch.prepared !== undefined ? batch.prepared.start() : this.target.exportRecords(batch.unencoded ?? [], { background: true });
      outcome.then(
        (o) => this.complete(batch, o),
        () => this.complete(batch, allFailed(batch.count, 'foreign')),
      );
    } catch {
      this.complete(batch, allFailed(batch.count, 'foreign'));
    }
  }

  /** An export that did not call back in time: its records count as failed (a foreign exporter's error is reported). */
  private abandon(batch: Batch, limitMs: number): void {
    if (!this.inFlight.has(batch)) return;
    if (this.detailed === undefined) reportExportError(new Error(`log record export did not complete within ${limitMs} ms`));
    this.complete(batch, allFailed(batch.count, 'abandoned'));
  }

  private complete(batch: Batch, outcome: ExportOutcome<FailureReason> & { error?: Error }): void {
    if (!this.inFlight.delete(batch)) return; // settled already (or handed over)
    clearTimeout(batch.timer);
    if (outcome.error !== undefined) reportExportError(outcome.error); // a foreign exporter's, once per batch
    this.budget.inFlightBytes = this.inFlight.size === 0 ? 0 : this.budget.inFlightBytes - batch.bytes; // no float drift when none is left
    try {
      this.account(batch, outcome);
    } catch (error) {
      reportError(`processor accounting failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    batch.release();
    this.pump();
  }

  private account(batch: Batch, outcome: ExportOutcome<FailureReason>): void {
    this.delivered(outcome.delivered);
    this.drop('rejected', outcome.rejected.badRequest);
    this.drop('tooLarge', outcome.rejected.tooLarge);
    const reason: FailureReason = outcome.failureReason ?? 'foreign';
    const unanswered = outcome.unanswered ?? [];
    if (outcome.failed.length > 0 || unanswered.length > 0) {
      if (this.detailed !== undefined) this.backOff(outcome.retryAfterMs); // nothing is resent behind any other
      // Exports the shutdown itself ended are said in its drop line.
      // Behind any other exporter nothing is kept: its errors go to the global error handler.
      if (reason !== 'shutdown' && !this.shutdownDrained && this.detailed !== undefined) this.outage.failed(outcome.cause ?? FAILURE_TEXT[reason], reason === 'unauthorized' || reason === 'network', this.shutdownStarted);
    }
    // Sent and never answered: they may have arrived. Sent once more at the most, never after the end.
    for (const i of unanswered) {
      const entry = batch.entryAt(i);
      if (entry.unanswered++ > 0 || this.shutdownDrained) this.drop('unanswered', 1);
      else this.keepForRetry(entry);
    }
    if (outcome.failed.length > 0) {
      // Not to be sent again: an abandoned export may still land (resending could duplicate), and
      // a shut-down exporter sends nothing.
      if (reason === 'shutdown') return this.drop('shutdown', outcome.failed.length);
      // Behind any other exporter a failed batch is dropped, as the specification says (it may retry on its own).
      if (reason === 'abandoned' || this.detailed === undefined) return this.drop('exportFailed', outcome.failed.length);
      for (const i of outcome.failed) this.keepForRetry(batch.entryAt(i));
    } else if (outcome.delivered > 0 && unanswered.length === 0) {
      this.consecutiveFailures = 0;
      this.backoffUntil = 0;
      this.outage.recovered(this.retry.length);
      this.lastResource = batch.resource ?? this.lastResource;
      this.sendDropSummary();
    }
  }

  /** Keeps a record of a failed export for another attempt, within the bounds; else drops it. */
  private keepForRetry(entry: RetryEntry): void {
    // Also while shutting down: shutdown retries kept records until its deadline, then counts the rest.
    if (this.shutdownDrained) return this.drop('shutdown', 1); // an outcome that came after the end
    if (!this.retry.push(entry, entry.bytes)) this.drop(this.shutdownStarted ? 'shutdown' : 'exportFailed', 1);
  }

  /**
   * Waits longer after each failed attempt to send, never less than a pause Astralog asked for
   * (Retry-After). Batches that were already in flight when sending paused fail together: they are
   * one failure, not one each, or a single outage with several exports in flight would escalate the
   * wait several steps at once.
   */
  private backOff(retryAfterMs: number | undefined): void {
    const now = Date.now();
    if (now >= this.backoffUntil) {
      this.consecutiveFailures++;
      this.backoffUntil = now + this.backoff.backoffMs(this.consecutiveFailures);
    }
    if (retryAfterMs !== undefined) this.backoffUntil = Math.max(this.backoffUntil, now + retryAfterMs);
  }

  /** Tells Astralog what was dropped, once the exporter works again. Not part of the accounting. */
  private sendDropSummary(): void {
    // Only to Astralog: a record nobody emitted must not reach another exporter (the user's Collector).
    if (this.detailed === undefined || this.summaryInFlight || this.shutdownStarted || this.lastResource === undefined) return;
    const summary = this.drops.takeSummary();
    if (summary === undefined) return;
    const { counts, since } = summary;
    const record = new AstralogLogRecord(
      Date.now(),
      LEVELS.warn,
      'astralog.sdk.dropped',
      { ...counts, dropped_total: total(counts), since: new Date(since).toISOString() },
      undefined,
      { resource: this.lastResource, instrumentationScope: SDK_SCOPE },
    );
    this.summaryInFlight = true;
    const done = (delivered: boolean) => {
      this.summaryInFlight = false;
      if (!delivered) this.drops.restoreSummary(summary);
    };
    try {
      this.detailed.exportRecords([record], { background: true }).then((o) => done(o.delivered === 1), () => done(false));
    } catch {
      done(false);
    }
  }

  private flushPending(timeoutMs: number): Promise<void> {
    const target = this.queue.headSeq + this.queue.length;
    this.flushTarget = Math.max(this.flushTarget, target);
    this.forcedRetries = this.retry.length; // each kept record gets one more try now
    const flushed = this.flushes.wait(target, timeoutMs);
    this.pump(); // settles it at once when there is nothing to send
    return flushed;
  }

  /** Every record with seq < target has been attempted: none queued, none in flight, forced retries sent. */
  private readonly flushedThrough = (target: number): boolean => {
    if (this.queue.length > 0 && this.queue.headSeq < target) return false;
    if (this.forcedRetries > 0) return false;
    if (this.ready.length > 0 && (this.ready[0] as Batch).minSeq < target) return false;
    for (const batch of this.inFlight) if (batch.minSeq < target) return false;
    return true;
  };

  /** The exporter's own flush, within the flush's deadline where the exporter can be told it (ours). */
  private async exporterFlush(deadline: number): Promise<void> {
    if (Date.now() >= deadline) return;
    // Any other exporter's flush may never end: waited for until the deadline only (it fails silently).
    const flushed = Promise.resolve().then(() => (this.detailed?.[FLUSH_UNTIL] !== undefined ? this.detailed[FLUSH_UNTIL](deadline) : this.exporter.forceFlush()));
    await untilDeadline(deadline, flushed);
  }

  private async shutdownOnce(): Promise<void> {
    try {
      await this.shutdownWithinDeadline();
    } catch (error) {
      reportError(`processor shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.drops.flushWarning(); // one line, with all it dropped (held since it started)
      this.metrics?.shutdown();
    }
  }

  private async shutdownWithinDeadline(): Promise<void> {
    this.shutdownStarted = true;
    this.drops.hold(); // one line at its end, with all it dropped
    clearInterval(this.interval);
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    // Leave part of the budget for abandoning exports and closing sockets, so that the whole
    // shutdown, not just its flush, ends within shutdownTimeoutMs.
    const margin = Math.min(SHUTDOWN_MARGIN_MS, Math.floor(this.config.shutdownTimeoutMs / 10));
    const flushDeadline = deadline - margin;
    await this.flushPending(flushDeadline - Date.now());
    // Records of exports that failed meanwhile are tried again, after the backoff, while time remains.
    while (this.retry.length > 0 && Date.now() < flushDeadline) {
      const wait = Math.min(Math.max(0, this.backoffUntil - Date.now()), flushDeadline - Date.now());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait)); // ref'd: shutdown is awaited
      if (Date.now() >= flushDeadline) break;
      await this.flushPending(flushDeadline - Date.now());
    }
    // The exporter's own flush (the specification's rule for shutdown), within the same deadline.
    await this.exporterFlush(flushDeadline);
    // Past the deadline: what is still held will not be sent.
    this.shutdownDrained = true;
    this.drop('shutdown', this.budget.items); // the queue, the batches encoded ahead and the retry queue
    this.queue.clear();
    this.retry.clear();
    for (const batch of this.takeAllReady()) batch.release();
    this.detailed?.[ABORT_EXPORTS]?.();
    await untilDeadline(deadline, Promise.resolve().then(() => this.exporter.shutdown()));
    for (const batch of [...this.inFlight]) this.complete(batch, allFailed(batch.count, 'shutdown'));
  }
}

/**
 * The distinct resources of `records` whose async attributes have not settled, as one promise;
 * undefined when there are none (the usual case: nothing to wait for).
 */
function resourcesSettling(records: readonly ReadableLogRecord[]): Promise<unknown> | undefined {
  let pending: Set<ReadableLogRecord['resource']> | undefined;
  for (const record of records) {
    try {
      const resource = record.resource;
      if (resource?.asyncAttributesPending === true && typeof resource.waitForAsyncAttributes === 'function') (pending ??= new Set()).add(resource);
    } catch {
      // a record whose resource cannot be read is encoded without it
    }
  }
  if (pending === undefined) return undefined;
  // A detector's wait may throw at once: a rejection like any other failure of it.
  return Promise.all(Array.from(pending, (resource) => Promise.resolve().then(() => resource.waitForAsyncAttributes?.())));
}

/** A flush's timeout: a finite, positive number of ms up to the longest timer Node runs; else the default. */
function timeoutOf(value: unknown, fallback: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) return fallback;
  return Math.min(value, 2_147_483_647);
}
