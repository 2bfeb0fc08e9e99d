import { ABANDON_PENDING, EMIT_FIELDS, HAND_OVER_PENDING, PREPARE_SYNC_DELIVERY, SETTLE_HANDED_OVER } from '../protocol.ts';
import type { SpanContext } from '@opentelemetry/api';
import type { LoggerProvider, LogRecordExporter } from '@opentelemetry/sdk-logs';
import { resolveClientConfig, type AstralogOptions } from '../config/client-config.ts';
import { appPackage } from '../config/app-package.ts';
import { naming, withEnvOptions } from '../config/env.ts';
import { boundMetadata, ensureContextManager, withBoundMetadata, type ContextManagerState } from '../context/context.ts';
import { reportOnce } from '../diagnostics.ts';
import { otelApi, otelSdkLogs } from '../globals/otel-packages.ts';
import { activeContextReadable } from '../ground/otel-registry.ts';
import { clientResource } from '../resource.ts';
import { AstralogLogRecordExporter, type ExporterStats, type ProxyRoute, type SyncDelivery } from '../exporter/exporter.ts';
import { AstralogBatchLogRecordProcessor, type ProcessorStats } from '../processor/processor.ts';
import type { RecordOrigin } from '../record.ts';
import { SDK_SCOPE } from '../version.ts';
import { LEVELS, levelFor, type Level } from '../ground/levels.ts';

export type Metadata = Readonly<Record<string, unknown>>;

export interface AstralogStats extends ProcessorStats {
  /** Calls below the minimum level, dropped at the call (not part of `emitted`). */
  filtered: number;
  exporter: ExporterStats;
}

/** The client API shared with the other Astralog SDKs. No method throws into the application. */
export interface Astralog {
  debug(message: unknown, metadata?: Metadata): void;
  info(message: unknown, metadata?: Metadata): void;
  warn(message: unknown, metadata?: Metadata): void;
  error(message: unknown, metadata?: Metadata): void;
  /** Any level, custom ones included (`critical`, …). */
  event(level: string, message: unknown, metadata?: Metadata): void;
  /** Binds metadata (`trace_id` included) to everything logged inside `fn`, across awaits. */
  withContext<T>(metadata: Metadata, fn: () => T): T;
  /** Sends everything logged before the call, waiting at most `timeoutMs` (default exportTimeoutMs + 1 s). Never rejects. */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes within shutdownTimeoutMs and stops; later calls are ignored. Idempotent. */
  close(): Promise<void>;
  stats(): AstralogStats;
  /** The OTel LoggerProvider behind the client (register it globally to collect other OTel logs). */
  readonly loggerProvider: LoggerProvider;
  /** The service name events carry (from the resource). */
  readonly serviceName: string;
  /** Whether a context manager is in place, so logs inside spans get their trace_id. */
  readonly traceCorrelation: boolean;
  /** Where events are sent. */
  readonly endpoint: string;
}

const EMPTY: Metadata = Object.freeze({});
const UNREADABLE_METADATA: Record<string, unknown> = Object.freeze({ 'astralog.metadata_unreadable': true });

/**
 * Creates a client: an OTel LoggerProvider with AstralogBatchLogRecordProcessor and
 * AstralogLogRecordExporter. An option not given is read from the variable register reads
 * (ASTRALOG_API_KEY, ASTRALOG_ENDPOINT, …); options win. Throws AstralogConfigError for a bad option
 * or variable, naming it; never afterwards.
 */
export function createAstralog(options?: Partial<AstralogOptions>): Astralog {
  const { options: resolved, fromEnv } = withEnvOptions(options, process.env);
  try {
    return new AstralogClient(resolved, {});
  } catch (error) {
    throw naming(error, fromEnv);
  }
}

/** What register adds to a client: resource attributes from OTEL_RESOURCE_ATTRIBUTES, an OTLP exporter. */
export interface ClientExtras {
  resourceAttributes?: Record<string, string>;
  /** Exporters that receive every record too (e.g. OTLP alongside Astralog), each behind a processor with the client's limits. */
  extraExporters?: LogRecordExporter[];
}

/** The client behind createAstralog; register uses it directly for its exit paths. */
export class AstralogClient implements Astralog {
  /** Built when first asked for: the Logs SDK is loaded for it then, not at start-up. */
  #loggerProvider: LoggerProvider | undefined;
  private readonly exporter: AstralogLogRecordExporter;
  private readonly processor: AstralogBatchLogRecordProcessor;
  private readonly extraProcessors: AstralogBatchLogRecordProcessor[];
  /** Resource and scope, shared by every record of this client. */
  private readonly origin: RecordOrigin;
  private readonly minSeverity: number;
  readonly serviceName: string;
  /** Where the service name came from: register's startup line warns when nothing named it. */
  readonly serviceSource: 'configured' | 'resource' | 'package.json' | 'unknown';
  readonly traceCorrelation: boolean;
  /** Whose context manager is in place: ours also binds incoming traceparent headers (register's startup line says which). */
  readonly contextManager: ContextManagerState;
  readonly endpoint: string;
  /** The proxy events go through, if any (register's startup line names it). */
  readonly proxy: ProxyRoute | undefined;
  private filtered = 0;
  /** Set first thing in close(), before the shutdown it starts can call back into this client. */
  private closed = false;
  private closePromise: Promise<void> | undefined;

  constructor(options: AstralogOptions, extras: ClientExtras) {
    const config = resolveClientConfig(options);
    this.exporter = new AstralogLogRecordExporter(config.exporter);
    this.processor = new AstralogBatchLogRecordProcessor({ exporter: this.exporter, meterProvider: config.meterProvider, ...config.limits });
    // Later wins: OTel's defaults (service.name unknown_service:…), then OTEL_RESOURCE_ATTRIBUTES, then
    // the service option, else the app's package.json name when nothing else names the service.
    const fromAttributes = extras.resourceAttributes?.['service.name'];
    const fromPackage = config.service === undefined && fromAttributes === undefined ? appPackage().name : undefined;
    this.serviceSource = config.service !== undefined ? 'configured' : fromAttributes !== undefined ? 'resource' : fromPackage !== undefined ? 'package.json' : 'unknown';
    const resource = clientResource(extras.resourceAttributes ?? {}, config.service ?? fromPackage);
    this.origin = { resource, instrumentationScope: SDK_SCOPE };
    this.extraProcessors = (extras.extraExporters ?? []).map((exporter) => new AstralogBatchLogRecordProcessor({ exporter, ...config.limits }));
    this.minSeverity = config.minSeverity;
    const contextManager = ensureContextManager();
    this.contextManager = contextManager;
    this.traceCorrelation = contextManager !== 'failed';
    this.serviceName = String(resource.serviceName); // OpenTelemetry's default always names one
    this.endpoint = this.exporter.url;
    this.proxy = this.exporter.proxy;
    if (contextManager === 'failed') {
      reportOnce(
        'context-manager',
        'could not register a context manager: another @opentelemetry/api version owns the OpenTelemetry globals ' +
          '(npm ls @opentelemetry/api). Logs are sent, but trace_id correlation and withContext will not work.',
      );
    }
  }

  get loggerProvider(): LoggerProvider {
    if (this.#loggerProvider === undefined) {
      const { LoggerProvider } = otelSdkLogs();
      this.#loggerProvider = new LoggerProvider({ resource: this.origin.resource, processors: [this.processor, ...this.extraProcessors] });
      if (this.closed) void this.#loggerProvider.shutdown().catch(() => undefined); // its loggers then emit nothing
    }
    return this.#loggerProvider;
  }

  debug(message: unknown, metadata?: Metadata): void {
    this.log(LEVELS.debug, message, metadata);
  }

  info(message: unknown, metadata?: Metadata): void {
    this.log(LEVELS.info, message, metadata);
  }

  warn(message: unknown, metadata?: Metadata): void {
    this.log(LEVELS.warn, message, metadata);
  }

  error(message: unknown, metadata?: Metadata): void {
    this.log(LEVELS.error, message, metadata);
  }

  event(level: string, message: unknown, metadata?: Metadata): void {
    this.log(levelFor(level), message, metadata);
  }

  withContext<T>(metadata: Metadata, fn: () => T): T {
    if (metadata === null || typeof metadata !== 'object') return fn();
    let bound: Record<string, unknown>;
    try {
      bound = metadata instanceof Error ? { error: metadata } : { ...metadata }; // the one copy
    } catch {
      return fn(); // a hostile metadata object: run fn unbound rather than throw
    }
    return withBoundMetadata(bound, fn);
  }

  flush(timeoutMs?: number): Promise<void> {
    const options = timeoutMs === undefined ? undefined : { timeoutMillis: timeoutMs };
    return Promise.all([this.processor, ...this.extraProcessors].map((p) => p.forceFlush(options))).then(() => undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    // The provider shuts its processors down; when none was built, they are shut down directly.
    this.closePromise ??= (this.#loggerProvider?.shutdown() ?? Promise.all([this.processor, ...this.extraProcessors].map((p) => p.shutdown()))).then(
      () => undefined,
      () => undefined,
    );
    return this.closePromise;
  }

  stats(): AstralogStats {
    return { ...this.processor.stats(), filtered: this.filtered, exporter: this.exporter.stats() };
  }

  /** The process ends now (a signal ends it): what is held is counted as dropped, and said. */
  abandonPending(): void {
    for (const processor of [this.processor, ...this.extraProcessors]) processor[ABANDON_PENDING]();
  }

  /** Everything not yet delivered, as request bodies, for a synchronous last delivery. */
  prepareFinalDelivery(): { delivery: SyncDelivery; settle: (delivered: number) => void } {
    const records = this.processor[HAND_OVER_PENDING]();
    return { delivery: this.exporter[PREPARE_SYNC_DELIVERY](records), settle: (delivered) => this.processor[SETTLE_HANDED_OVER](delivered) };
  }

  /**
   * The hot path: everything that can wait (making values safe, serialising, sizing beyond a cheap
   * estimate) happens later, in the exporter. Here: a level check, one context read, a shallow copy
   * of the metadata (so the caller may reuse its object), and the record's fields handed to the
   * processor, which keeps them without building a record object until export.
   */
  private log(level: Level, message: unknown, metadata: Metadata | undefined): void {
    if (level.severity < this.minSeverity) {
      this.filtered++;
      return;
    }
    if (this.closed) return;
    let attributes: Metadata;
    let spanContext: SpanContext | undefined;
    try {
      let bound: Metadata | undefined;
      // Before any context was entered, and outside any span or withContext (scripts, startup,
      // background jobs), there is nothing to read.
      if (activeContextReadable()) {
        const api = otelApi();
        const active = api.context.active();
        if (active !== api.ROOT_CONTEXT) {
          bound = boundMetadata(active);
          spanContext = api.trace.getSpan(active)?.spanContext();
        }
      }
      if (metadata === undefined || metadata === null) attributes = bound ?? EMPTY;
      else if (typeof metadata !== 'object') attributes = bound === undefined ? { metadata } : { ...bound, metadata };
      else if (metadata instanceof Error) attributes = bound === undefined ? { error: metadata } : { ...bound, error: metadata };
      else attributes = bound === undefined ? { ...metadata } : { ...bound, ...metadata };
    } catch {
      // Hostile metadata (a throwing getter or proxy): the call still goes out, with a marker instead.
      attributes = UNREADABLE_METADATA;
      spanContext = undefined;
    }
    const timeMs = Date.now();
    this.processor[EMIT_FIELDS](this.origin, timeMs, level, message, attributes as Record<string, unknown>, spanContext); // never throws
    for (let i = 0; i < this.extraProcessors.length; i++) this.extraProcessors[i]?.[EMIT_FIELDS](this.origin, timeMs, level, message, attributes as Record<string, unknown>, spanContext);
  }
}
