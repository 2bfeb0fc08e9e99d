import type { ExportResult } from '@opentelemetry/core';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { resolveExporterConfig, type AstralogExporterOptions, type ExporterConfig } from '../config/exporter-config.ts';
import { untilDeadline } from '../deadline.ts';
import { clearReported, maskSecrets, registerSecret, reportError, reportInfo, reportOnce, reportThrottled } from '../diagnostics.ts';
import { originField } from '../record.ts';
import { SDK_SCOPE } from '../version.ts';
import { EventEncoder } from './encode.ts';
import { EncodedEvent, type EncodedExport, type PreparedExport } from './encoded-event.ts';
import { allFailed, EXPORT_FAILED, EXPORT_SUCCESS, type ExportFailureReason, type ExportOutcome } from '../ground/outcome.ts';
import { EMPTY_RESOURCE } from '../resource.ts';
import { JsonBuffer } from './json-buffer.ts';
import { RetryPolicy, parseRetryAfter } from './retry-policy.ts';
import { ABORT_EXPORTS, FLUSH_UNTIL, LAST_FAILURE, PREPARE_EXPORT, PREPARE_SYNC_DELIVERY, REPORTS_PER_RECORD } from '../protocol.ts';
import { HttpTransport, TransportError, type TransportConfig, type TransportResponse } from './transport.ts';
import { failureVerdict, isCertificateFailure, statusVerdict } from './verdict.ts';

/** Where an exporter's requests go through (see the exporter's `proxy`). */
export interface ProxyRoute {
  /** The proxy's origin, without credentials. */
  origin: string;
  /** The environment variable that named it (HTTPS_PROXY, …); undefined when the proxy option did. */
  variable: string | undefined;
}

export interface ExporterStats {
  requests: number;
  retries: number;
  delivered: number;
  /** Records whose request was written but never answered (they may have arrived). */
  unanswered: number;
  rejected: { badRequest: number; tooLarge: number };
  failed: Record<ExportFailureReason, number>;
  exportsInFlight: number;
}

/** Below this much budget left, another attempt is not worth starting. */
const MIN_ATTEMPT_MS = 50;
/** Encode buffers kept for reuse: one per export in flight at the default maxConcurrentExports. */
const MAX_POOLED_BUFFERS = 8;
/**
 * A buffer grown past this (batches of unusually large events) is let go rather than kept, so the
 * pool holds at most 8 MiB beside maxQueueBytes.
 */
const MAX_POOLED_BUFFER_BYTES = 1024 * 1024;

/** JSON framing of a request body around the events. */
const BODY_OPEN = '{"events":[';
const BODY_CLOSE = ']}';
const BODY_OPEN_BYTES = Buffer.from(BODY_OPEN);
const BODY_CLOSE_BYTES = Buffer.from(BODY_CLOSE);

/** A batch encoded once: request-framed bytes (`buffer.bytes` up to `buffer.pos`) and where each event ends. */
interface EncodedBatch {
  /** Where the bytes live; back to the pool once the export has ended and its caller let go (KeptEvents). */
  buffer: JsonBuffer;
  /** Event i ends at ends[i]; it starts after the opening, or after the comma that follows event i-1. */
  ends: number[];
}

function startOf(batch: EncodedBatch, i: number): number {
  return i === 0 ? BODY_OPEN.length : (batch.ends[i - 1] as number) + 1;
}

/**
 * The encoded events of an export, held by its caller (PREPARE_EXPORT) and, once it has started, by
 * the export itself: the buffer goes back to the pool once every holder has released it.
 */
class KeptEvents implements EncodedExport {
  readonly batch: EncodedBatch;
  readonly resource: Resource | undefined;
  private readonly scope: InstrumentationScope | undefined;
  private readonly recycle: (buf: JsonBuffer) => void;
  private holders = 1;
  private callerReleased = false;
  /** Requests of this export written to a connection and not answered yet. */
  awaiting = 0;

  constructor(batch: EncodedBatch, first: ReadableLogRecord | undefined, recycle: (buf: JsonBuffer) => void) {
    this.batch = batch;
    this.resource = originField(first, 'resource');
    this.scope = originField(first, 'instrumentationScope');
    this.recycle = recycle;
  }

  event(i: number): EncodedEvent {
    if (this.callerReleased) throw new Error('the encoded events of this export were released');
    const from = startOf(this.batch, i);
    // Its own memory: a small Buffer.from() would be a slice of Node's shared 8 KiB pool, which a
    // record kept for retry would hold whole.
    const bytes = Buffer.allocUnsafeSlow((this.batch.ends[i] as number) - from);
    this.batch.buffer.bytes.copy(bytes, 0, from, this.batch.ends[i]);
    return new EncodedEvent(bytes, { resource: this.resource ?? EMPTY_RESOURCE, instrumentationScope: this.scope ?? SDK_SCOPE });
  }

  get awaitingAnswer(): boolean {
    return this.awaiting > 0;
  }

  /** What the encoded events hold: their buffer's whole size, spare room included. */
  get bytes(): number {
    return this.batch.buffer.bytes.length;
  }

  /** The caller's release (once; later calls change nothing). */
  release(): void {
    if (this.callerReleased) return;
    this.callerReleased = true;
    this.drop();
  }

  /**
   * Another holder: the export itself, from its start until its last request has settled, and
   * each request until no socket reads its payload any more (a body is a view of these bytes).
   */
  hold(): void {
    this.holders++;
  }

  drop(): void {
    if (--this.holders === 0) this.recycle(this.batch.buffer);
  }
}


/** One export under way: what it sends and how. */
interface ExportRun {
  kept: KeptEvents;
  /** The export's time budget ends here, retries and splits included. */
  deadline: number;
  /** False for a processor's background export: its sockets and timers do not hold the process. */
  keepProcessAlive: boolean;
}

/** Everything a worker thread needs to post the last events of a dying process. */
export interface SyncDelivery {
  /** The exporter's own transport settings (proxy included), so the worker sends the same way. */
  transport: TransportConfig;
  bodies: Buffer[];
  /** Events in each body. */
  counts: number[];
}

export interface ExportOptions {
  /**
   * A background export (the processor's own batches) does not keep the process alive; an
   * export somebody waits for (the stock processor's flush) does, for at most exportTimeoutMs.
   */
  background?: boolean;
}

let nextExporterId = 1;

/**
 * Sends OTel log records to Astralog: records -> events -> JSON -> POST /v1/drain.
 * Implements the sdk-logs LogRecordExporter contract: `export` calls back exactly once and never
 * throws; every export is bounded by `exportTimeoutMs`; `forceFlush` and `shutdown` are bounded and
 * idempotent; exports after shutdown fail at once.
 */
export class AstralogLogRecordExporter implements LogRecordExporter {
  /** @internal */
  readonly [REPORTS_PER_RECORD] = true;

  // Truly private (#): they hold the API key and proxy credentials, which util.inspect,
  // JSON.stringify and Object.keys must never show.
  readonly #config: ExporterConfig;
  readonly #encoder: EventEncoder;
  readonly #transportConfig: TransportConfig;
  readonly #transport: HttpTransport;
  /** Why the last attempt failed, retried without a word, until one delivers: the processor says it when records are dropped at the end. */
  #lastFailure: string | undefined;
  private readonly retryPolicy: RetryPolicy;
  private readonly id = nextExporterId++;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abortController = new AbortController();
  private readonly freeBuffers: JsonBuffer[] = [];
  private shutdownPromise: Promise<void> | undefined;
  /**
   * While the key is refused (401/403), or the endpoint cannot be used at all (a TLS certificate
   * it does not trust): no request before this time, and records fail at once with this reason.
   */
  private pausedUntil = 0;
  private pauseReason: 'unauthorized' | 'network' = 'unauthorized';
  /** Astralog asked (Retry-After) for no request before this time. */
  private throttledUntil = 0;
  /**
   * The number (counters.requests) of the latest request answered 2xx. A 401 to an earlier one is
   * stale (answers on different sockets arrive in any order): the key has worked since.
   */
  private lastAcceptedRequest = 0;
  private readonly counters: Omit<ExporterStats, 'exportsInFlight'> = {
    requests: 0,
    retries: 0,
    delivered: 0,
    unanswered: 0,
    rejected: { badRequest: 0, tooLarge: 0 },
    failed: { unauthorized: 0, retriesExhausted: 0, httpError: 0, network: 0, shutdown: 0 },
  };

  constructor(options: AstralogExporterOptions) {
    this.#config = resolveExporterConfig(options);
    this.#encoder = new EventEncoder(this.#config);
    const { url, apiKey, headers, compression, ca, proxy } = this.#config;
    registerSecret(apiKey);
    for (const secret of proxy?.credentials ?? []) registerSecret(secret);
    this.#transportConfig = { url: url.href, apiKey, headers, compression, ca, proxy: proxy?.href };
    this.#transport = new HttpTransport(this.#transportConfig);
    this.retryPolicy = new RetryPolicy();
  }

  /** The drain URL requests go to. */
  get url(): string {
    return this.#config.url.href;
  }

  /**
   * The proxy requests go through: its origin (never its credentials) and the environment
   * variable that named it (undefined for the proxy option); undefined for a direct connection.
   */
  get proxy(): ProxyRoute | undefined {
    const proxy = this.#config.proxy;
    return proxy === undefined ? undefined : { origin: proxy.origin, variable: proxy.variable };
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    let called = false;
    const done = (result: ExportResult) => {
      if (called) return;
      called = true;
      try {
        resultCallback(result);
      } catch (error) {
        reportError(`an export result callback threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    try {
      if (this.shutdownPromise !== undefined) {
        done({ code: EXPORT_FAILED, error: new Error('Astralog exporter is shut down') });
        return;
      }
      this.exportRecords(records).then(
        (outcome) => {
          this.reportUndelivered(outcome);
          done(toExportResult(outcome));
        },
        (error: unknown) => done({ code: EXPORT_FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
      );
    } catch (error) {
      done({ code: EXPORT_FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  /**
   * Exports and tells exactly what became of each record, so a processor can keep what failed
   * for a later attempt and count what was refused. Never rejects.
   */
  exportRecords(records: readonly ReadableLogRecord[], options: ExportOptions = {}): Promise<ExportOutcome> {
    const prepared = this[PREPARE_EXPORT](records, options);
    const outcome = prepared.start();
    prepared.encoded?.release(); // the export holds the bytes itself until it ends
    return outcome;
  }

  /**
   * Encodes `records` now and sends them when `start` is called: the caller may let go of the
   * records at once, so that they die young instead of waiting for a free connection and for
   * Astralog's answer. Their events stay readable through `encoded` (for another attempt, or a last
   * delivery) until the caller releases it; the bytes are reused only once the export has ended too.
   * An export never started is let go by releasing `encoded`. Never throws. @internal
   */
  [PREPARE_EXPORT](records: readonly ReadableLogRecord[], options: ExportOptions = {}): PreparedExport {
    const n = Array.isArray(records) ? records.length : 0;
    const outcome: ExportOutcome = { delivered: 0, rejected: { badRequest: 0, tooLarge: 0 }, failed: [], unanswered: [], failureReason: undefined };
    if (this.shutdownPromise !== undefined) return settledExport(allFailed(n, 'shutdown'));
    if (n === 0) return settledExport(outcome);
    let kept: KeptEvents;
    try {
      kept = new KeptEvents(this.encodeBatch(records), records[0], (buf) => this.releaseBuffer(buf));
    } catch (error) {
      return settledExport(this.unexpected(error, n, outcome));
    }
    let run: Promise<ExportOutcome> | undefined;
    const start = (): Promise<ExportOutcome> => {
      if (run !== undefined) return run;
      // Shut down meanwhile: the events are not sent (the caller still releases them).
      if (this.shutdownPromise !== undefined) return (run = Promise.resolve(allFailed(n, 'shutdown')));
      kept.hold();
      const started = this.runExport(kept, outcome, options.background === true).catch((error: unknown) => this.unexpected(error, n, outcome));
      run = started;
      this.inFlight.add(started);
      void started.finally(() => this.inFlight.delete(started));
      return started;
    };
    return { encoded: kept, start };
  }

  /** Unreachable by design; never let a bug lose records silently: what is not accounted for failed. */
  private unexpected(error: unknown, n: number, outcome: ExportOutcome): ExportOutcome {
    reportError(`export failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
    const accounted = outcome.delivered + outcome.rejected.badRequest + outcome.rejected.tooLarge + outcome.failed.length + outcome.unanswered.length;
    const alreadyFailed = new Set([...outcome.failed, ...outcome.unanswered]);
    for (let i = n - 1, missing = n - accounted; i >= 0 && missing > 0; i--) {
      if (alreadyFailed.has(i)) continue;
      outcome.failed.push(i);
      missing--;
    }
    outcome.failureReason ??= 'network';
    return outcome;
  }

  /** Waits for the exports in flight, exportTimeoutMs at most (each is bounded by it). Never rejects. */
  forceFlush(): Promise<void> {
    return this[FLUSH_UNTIL](Date.now() + this.#config.exportTimeoutMs);
  }

  /**
   * forceFlush within a caller's deadline (a Date.now() time; a processor's flush): its timer,
   * which keeps the process alive, never outlives that. @internal
   */
  [FLUSH_UNTIL](deadline: number): Promise<void> {
    return untilDeadline(Math.min(deadline, Date.now() + this.#config.exportTimeoutMs), Promise.allSettled([...this.inFlight]));
  }

  /** Waits up to shutdownTimeoutMs for exports in flight, then abandons them and closes sockets. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.shutdownOnce();
    return this.shutdownPromise;
  }

  /**
   * Why the last attempt to send failed (`connect ECONNREFUSED …`, `HTTP 503`), when none delivered
   * since and no line said it already (a refused key, endpoint or certificate is said at once).
   * @internal
   */
  [LAST_FAILURE](): string | undefined {
    return this.#lastFailure;
  }

  /**
   * Request bodies for `records`, built synchronously, for a last delivery from a worker thread
   * while the process ends (see register's final delivery). Empty while the key is refused.
   * @internal
   */
  [PREPARE_SYNC_DELIVERY](records: readonly ReadableLogRecord[]): SyncDelivery {
    const delivery: SyncDelivery = { transport: this.#transportConfig, bodies: [], counts: [] };
    if (records.length === 0 || Date.now() < this.pausedUntil) return delivery;
    const batch = this.encodeBatch(records);
    for (const [first, last] of this.chunkByRequestSize(batch)) {
      const body = this.bodyOf(batch, first, last);
      delivery.bodies.push(this.#transport.encodeBodySync(body));
      delivery.counts.push(last - first + 1);
    }
    // Not given back to the pool: the bodies may be views of it (the worker gets copies of them).
    return delivery;
  }

  /**
   * Ends the exports in flight now (their records fail with reason 'shutdown'). For a processor
   * whose own shutdown deadline has passed; the exporter accepts no work afterwards.
   * @internal
   */
  [ABORT_EXPORTS](): void {
    this.abortController.abort();
  }

  stats(): ExporterStats {
    const c = this.counters;
    return {
      requests: c.requests,
      retries: c.retries,
      delivered: c.delivered,
      unanswered: c.unanswered,
      rejected: { ...c.rejected },
      failed: { ...c.failed },
      exportsInFlight: this.inFlight.size,
    };
  }

  private async shutdownOnce(): Promise<void> {
    const pending = Promise.allSettled([...this.inFlight]);
    // Ref'd (untilDeadline): whoever awaits the shutdown keeps the process alive until it ends.
    await untilDeadline(Date.now() + this.#config.shutdownTimeoutMs, pending);
    if (this.inFlight.size > 0) {
      this.abortController.abort();
      await pending;
    }
    this.#transport.destroy();
  }

  private async runExport(kept: KeptEvents, outcome: ExportOutcome, background: boolean): Promise<ExportOutcome> {
    const run: ExportRun = { kept, deadline: Date.now() + this.#config.exportTimeoutMs, keepProcessAlive: !background };
    try {
      for (const [first, last] of this.chunkByRequestSize(kept.batch)) {
        await this.sendEvents(run, first, last, outcome);
      }
    } finally {
      // Requests still writing these bytes hold them until their sockets let go (onReleased).
      kept.drop();
    }
    return outcome;
  }

  /**
   * Encode buffers are reused: a fresh 200 KB Buffer per batch is external memory to V8, and that
   * churn alone triggered a full GC every few hundred batches (trace-gc, 800k events: 6 mark-compacts).
   */
  private takeBuffer(minBytes: number): JsonBuffer {
    const buf = this.freeBuffers.pop();
    if (buf === undefined) return new JsonBuffer(minBytes);
    buf.pos = 0;
    return buf;
  }

  private releaseBuffer(buf: JsonBuffer): void {
    if (this.freeBuffers.length < MAX_POOLED_BUFFERS && buf.bytes.length <= MAX_POOLED_BUFFER_BYTES) this.freeBuffers.push(buf);
  }

  /**
   * Encodes every record into one buffer, already framed as a request body: `{"events":[e0,e1,…]}`.
   * Sending the whole batch is then a slice of it, with no copy.
   */
  private encodeBatch(records: readonly ReadableLogRecord[]): EncodedBatch {
    const n = records.length;
    const buf = this.takeBuffer(Math.max(16 * 1024, n * 384));
    const ends = new Array<number>(n);
    buf.ascii(BODY_OPEN);
    for (let i = 0; i < n; i++) {
      if (i > 0) buf.byte(0x2c);
      this.#encoder.encodeInto(buf, records[i] as ReadableLogRecord);
      ends[i] = buf.pos;
    }
    buf.ascii(BODY_CLOSE);
    // A batch of large events grew its buffer by doubling: beyond the pool's sizes, its spare room
    // (up to half of it) would be held against maxQueueBytes until the export ends.
    if (buf.bytes.length > MAX_POOLED_BUFFER_BYTES && buf.bytes.length > buf.pos * 1.25) buf.fit();
    return { buffer: buf, ends };
  }

  /** Splits the batch into runs of events [first, last] whose request body stays within maxRequestBytes. */
  private chunkByRequestSize(batch: EncodedBatch): Array<[number, number]> {
    const n = batch.ends.length;
    if (batch.buffer.pos <= this.#config.maxRequestBytes) return [[0, n - 1]];
    const max = this.#config.maxRequestBytes - BODY_OPEN.length - BODY_CLOSE.length;
    const chunks: Array<[number, number]> = [];
    let first = 0;
    for (let i = 1; i < n; i++) {
      // bytes of events first..i with their separating commas
      if ((batch.ends[i] as number) - startOf(batch, first) > max) {
        chunks.push([first, i - 1]);
        first = i;
      }
    }
    chunks.push([first, n - 1]);
    return chunks;
  }

  /** The request body for events first..last: the whole buffer when it is the whole batch, else a copy. */
  private bodyOf(batch: EncodedBatch, first: number, last: number): Buffer {
    const bytes = batch.buffer.bytes;
    if (first === 0 && last === batch.ends.length - 1) return bytes.subarray(0, batch.buffer.pos);
    return Buffer.concat([BODY_OPEN_BYTES, bytes.subarray(startOf(batch, first), batch.ends[last]), BODY_CLOSE_BYTES]);
  }

  /** Sends events first..last as one request, retrying, splitting on 400/413, within `deadline`. */
  private async sendEvents(run: ExportRun, first: number, last: number, outcome: ExportOutcome): Promise<void> {
    const deadline = run.deadline;
    const count = last - first + 1;
    if (this.abortController.signal.aborted) return this.fail(outcome, first, last, 'shutdown');
    if (Date.now() < this.pausedUntil) return this.fail(outcome, first, last, this.pauseReason);
    // Astralog asked for a pause (Retry-After): no request of any batch before it ends.
    const pause = this.throttledUntil - Date.now();
    if (pause > 0) {
      if (this.throttledUntil >= deadline) {
        noteRetryAfter(outcome, pause);
        return this.fail(outcome, first, last, 'retriesExhausted', 'waiting for Retry-After');
      }
      await sleep(pause, this.abortController.signal, run.keepProcessAlive);
      if (this.abortController.signal.aborted) return this.fail(outcome, first, last, 'shutdown');
    }

    const payload = await this.#transport.encodeBody(this.bodyOf(run.kept.batch, first, last));

    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return this.fail(outcome, first, last, 'retriesExhausted');
      const request = ++this.counters.requests;
      let response: TransportResponse | undefined;
      let failure: TransportError | undefined;
      let written = false;
      run.kept.hold();
      try {
        // The whole budget that is left: a server that answers within it must not see the request
        // twice because an attempt was given up early.
        response = await this.#transport.send(payload, {
          timeoutMs: remaining,
          signal: this.abortController.signal,
          keepProcessAlive: run.keepProcessAlive,
          onReleased: () => run.kept.drop(),
          onWritten: () => {
            written = true;
            run.kept.awaiting++;
          },
        });
      } catch (error) {
        failure = error instanceof TransportError ? error : new TransportError('ERR_UNKNOWN', String(error));
      } finally {
        if (written) run.kept.awaiting--;
      }
      if (response === undefined) {
        failure ??= new TransportError('ERR_UNKNOWN', 'no answer');
        const blocked = failureVerdict(failure.code) === 'blocked';
        this.#lastFailure = blocked ? undefined : describeError(failure); // a blocked one is said at once
        if (blocked) {
          this.onBlocked(failure);
          return this.fail(outcome, first, last, 'network');
        }
        // Written to a connection (onWritten), it may have arrived before the failure (a timeout, a
        // reset, a malformed answer): sent again only by a processor, and once (see ExportOutcome.unanswered).
        if (written) return this.leaveUnanswered(outcome, first, last, failure);
        if (this.abortController.signal.aborted) return this.fail(outcome, first, last, 'shutdown');
        if (!(await this.backoff(attempt, undefined, run))) return this.fail(outcome, first, last, 'retriesExhausted', failure);
        continue;
      }

      const status = response.status;
      const verdict = statusVerdict(status);
      // Only what is retried without a word (429, 5xx): a refused key or endpoint is said at once, a refused event counted apart.
      this.#lastFailure = verdict === 'retry' ? `HTTP ${status}` : undefined;
      switch (verdict) {
        case 'delivered':
          this.onAccepted(request);
          outcome.delivered += count;
          this.counters.delivered += count;
          return;
        case 'unauthorized':
          this.onUnauthorized(status, request);
          return this.fail(outcome, first, last, 'unauthorized');
        case 'split':
          if (count > 1) {
            // Halve until the offending event is alone, so every good event still arrives.
            const middle = first + (count >> 1);
            await this.sendEvents(run, first, middle - 1, outcome);
            await this.sendEvents(run, middle, last, outcome);
            return;
          }
          this.reject(outcome, status as 400 | 413, response.body);
          return;
        case 'refused':
          reportOnce(
            `${this.id}:status:${status}`,
            `Astralog at ${this.#config.url.href} answered HTTP ${status}${snippet(response.body)}; check the endpoint.`,
          );
          return this.fail(outcome, first, last, 'httpError', `HTTP ${status}`);
        default:
          break; // retry
      }
      const retryAfterMs = parseRetryAfter(response.retryAfter);
      if (retryAfterMs !== undefined) this.throttledUntil = Math.max(this.throttledUntil, Date.now() + retryAfterMs);
      if (!(await this.backoff(attempt, retryAfterMs, run))) {
        if (retryAfterMs !== undefined) noteRetryAfter(outcome, this.throttledUntil - Date.now());
        return this.fail(
          outcome,
          first,
          last,
          'retriesExhausted',
          retryAfterMs !== undefined && Date.now() + retryAfterMs >= deadline ? `HTTP ${status}, Retry-After ${Math.ceil(retryAfterMs / 1000)} s, beyond this export's budget` : `HTTP ${status}`,
        );
      }
    }
  }

  /** A failure no retry cures (an untrusted certificate, a proxy refusing its credentials): pause, said once. */
  private onBlocked(error: TransportError): void {
    const code = error.code;
    this.pause('network');
    const retried = `Sending is paused and tried again every ${formatDuration(this.#config.authRetryIntervalMs)}`;
    const proxy = this.#config.proxy;
    if (isCertificateFailure(code)) {
      // Behind an https proxy, the certificate at fault may be the proxy's.
      const tlsProxy = proxy?.origin.startsWith('https:') === true ? proxy.origin : undefined;
      reportOnce(
        `${this.id}:net:${code}`,
        tlsProxy === undefined
          ? `cannot use Astralog at ${this.#config.url.origin}: its TLS certificate is not trusted (${describeError(error)}). ${retried}; for a private CA, pass the ca option.`
          : `cannot use Astralog at ${this.#config.url.origin} through the proxy ${tlsProxy}: a TLS certificate is not trusted (${describeError(error)}). ${retried}; ` +
              `for the endpoint's private CA pass the ca option, for the proxy's set NODE_EXTRA_CA_CERTS.`,
      );
    } else {
      reportOnce(
        `${this.id}:net:${code}`,
        `the proxy ${proxy?.origin ?? ''} refused its credentials (HTTP 407). ${retried}; check the user and password in ${proxy?.variable ?? 'the proxy option (ASTRALOG_PROXY under register)'}.`,
      );
    }
  }

  /** Waits before the next attempt; false when no attempt is left within the budget. */
  private async backoff(failedAttempts: number, retryAfterMs: number | undefined, run: ExportRun): Promise<boolean> {
    if (failedAttempts >= this.retryPolicy.maxAttempts) return false;
    const remaining = run.deadline - Date.now();
    // The server's pause is not ours to shorten; waiting past the budget only to give up would hold
    // records and sockets for nothing.
    if (retryAfterMs !== undefined && retryAfterMs >= remaining) return false;
    // Our own jittered wait is shortened to leave time for the attempt, rather than giving up early.
    if (remaining < MIN_ATTEMPT_MS) return false;
    const delay = retryAfterMs ?? Math.min(this.retryPolicy.backoffMs(failedAttempts), Math.floor(remaining / 2));
    this.counters.retries++;
    await sleep(delay, this.abortController.signal, run.keepProcessAlive);
    return !this.abortController.signal.aborted;
  }

  /**
   * Records first..last were not delivered, for a reason a later attempt may cure. Who handles the
   * outcome says what happens next (our processor keeps them; see export() for other callers).
   */
  private fail(outcome: ExportOutcome, first: number, last: number, reason: ExportFailureReason, cause?: unknown): void {
    for (let i = first; i <= last; i++) outcome.failed.push(i);
    outcome.failureReason ??= reason;
    if (cause !== undefined) outcome.cause = maskSecrets(typeof cause === 'string' ? cause : describeError(cause));
    this.counters.failed[reason] += last - first + 1;
  }

  /** Records first..last were sent and never answered: they may have arrived, so they are not sent again here. */
  private leaveUnanswered(outcome: ExportOutcome, first: number, last: number, cause: TransportError): void {
    for (let i = first; i <= last; i++) outcome.unanswered.push(i);
    outcome.cause = maskSecrets(`no answer: ${describeError(cause)}`);
    this.counters.unanswered += last - first + 1;
  }

  /**
   * For a caller of export() (the stock BatchLogRecordProcessor, say), which drops what failed: one
   * line (at most every 5 s) saying so. Refused keys and untrusted certificates were said already.
   */
  private reportUndelivered(outcome: ExportOutcome): void {
    const reason = outcome.failureReason;
    if (reason === 'unauthorized' || reason === 'network' || reason === 'shutdown') return;
    const failed = outcome.failed.length;
    const unanswered = outcome.unanswered.length;
    if (failed + unanswered === 0) return;
    reportThrottled(
      `${this.id}:undelivered`,
      `Astralog export failed: ${failed + unanswered} record(s) not delivered${outcome.cause === undefined ? '' : ` (${outcome.cause})`}` +
        (unanswered > 0 ? `; ${unanswered} of them were sent without an answer and may have arrived` : '') +
        '. The export reports FAILED to its caller.',
    );
  }

  private reject(outcome: ExportOutcome, status: 400 | 413, body: string): void {
    if (status === 400) {
      outcome.rejected.badRequest++;
      this.counters.rejected.badRequest++;
    } else {
      outcome.rejected.tooLarge++;
      this.counters.rejected.tooLarge++;
    }
    reportThrottled(
      `${this.id}:rejected:${status}`,
      `Astralog refused an event (HTTP ${status}${snippet(body)}); it was dropped and counted (rejected.${status === 400 ? 'badRequest' : 'tooLarge'}), the rest of its batch was delivered.`,
    );
  }

  private pause(reason: 'unauthorized' | 'network'): void {
    this.pausedUntil = Date.now() + this.#config.authRetryIntervalMs;
    this.pauseReason = reason;
  }

  private onUnauthorized(status: number, request: number): void {
    if (request < this.lastAcceptedRequest) return; // stale: its records are retried, nothing pauses
    this.pause('unauthorized');
    reportOnce(
      `${this.id}:auth`,
      `Astralog refused the API key (HTTP ${status}) at ${this.#config.url.origin}. Sending is paused and the key is tried again every ` +
        `${formatDuration(this.#config.authRetryIntervalMs)}; records are not delivered meanwhile. Check the apiKey option or ASTRALOG_API_KEY.`,
    );
  }

  private onAccepted(request: number): void {
    this.lastAcceptedRequest = Math.max(this.lastAcceptedRequest, request);
    if (this.pausedUntil === 0) return;
    this.pausedUntil = 0;
    if (this.pauseReason !== 'unauthorized') return;
    clearReported(`${this.id}:auth`);
    reportInfo(`Astralog accepted the API key again; sending resumed.`);
  }
}

/** Tells the processor how long Astralog asked to wait (the longest pause any request of the export met). */
function noteRetryAfter(outcome: ExportOutcome, ms: number): void {
  outcome.retryAfterMs = Math.max(outcome.retryAfterMs ?? 0, ms);
}

function toExportResult(outcome: ExportOutcome): ExportResult {
  const { badRequest, tooLarge } = outcome.rejected;
  if (outcome.failed.length === 0 && outcome.unanswered.length === 0 && badRequest === 0 && tooLarge === 0) return { code: EXPORT_SUCCESS };
  return {
    code: EXPORT_FAILED,
    error: new Error(
      `Astralog export: ${outcome.delivered} delivered, ${badRequest} rejected (400), ${tooLarge} too large (413), ` +
        `${outcome.unanswered.length} sent without an answer, ` +
        `${outcome.failed.length} failed${outcome.failureReason === undefined ? '' : ` (${outcome.failureReason})`}`,
    ),
  };
}

function sleep(ms: number, signal: AbortSignal, keepProcessAlive: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    // Ref'd unless in the background: a batch waiting to be retried is work in flight, bounded by exportTimeoutMs.
    const timer = setTimeout(done, ms);
    if (!keepProcessAlive) timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

function describeError(error: unknown): string {
  if (error instanceof TransportError) return error.message.includes(error.code) ? error.message : `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function snippet(body: string): string {
  const text = body.trim();
  return text === '' ? '' : `: ${text.length > 200 ? text.slice(0, 200) + '…' : text}`;
}


/** An export with nothing to send: its outcome is known already. */
function settledExport(outcome: ExportOutcome): PreparedExport {
  const settled = Promise.resolve(outcome);
  return { encoded: undefined, start: () => settled };
}
