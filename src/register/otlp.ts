import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { DEFAULT_EVENT_LIMITS, DEFAULT_REDACT_KEYS } from '../config/exporter-config.ts';
import { writeStderr } from '../ground/stderr.ts';
import { EventEncoder } from '../exporter/encode.ts';
import { AstralogLogRecord } from '../record.ts';
import { requireFromApp } from '../globals/require-from-app.ts';
import type { Env } from '../ground/switches.ts';

const OTLP_PACKAGE = '@opentelemetry/exporter-logs-otlp-http';

/**
 * When the standard variables ask for OTLP (OTEL_LOGS_EXPORTER containing `otlp`, with
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), an exporter that ships the same
 * records over OTLP/HTTP JSON (the client puts it behind a bounded processor of its own). Otherwise
 * undefined. Problems are said once and never stop Astralog delivery.
 */
export function createOtlpExporter(env: Env): LogRecordExporter | undefined {
  const exporters = (env.OTEL_LOGS_EXPORTER ?? '').split(',').map((e) => e.trim().toLowerCase());
  if (!exporters.includes('otlp')) return undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint === undefined || endpoint.trim() === '') return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json').trim();
  if (protocol !== 'http/json') {
    writeStderr(
      `OTEL_EXPORTER_OTLP_(LOGS_)PROTOCOL is '${protocol}': logs are also shipped over OTLP only as http/json; set it to http/json ` +
        `(collectors accept both on the same port). Sending to Astralog only.`,
    );
    return undefined;
  }
  const otlp = requireFromApp<{ OTLPLogExporter: new () => LogRecordExporter }>(OTLP_PACKAGE);
  if (otlp === undefined) {
    writeStderr(`OTEL_LOGS_EXPORTER asks for otlp, but ${OTLP_PACKAGE} is not installed (npm install ${OTLP_PACKAGE}@0.301). Sending to Astralog only.`);
    return undefined;
  }
  // The OTLP exporter reads its endpoint, headers, timeout and compression from the same variables.
  return new OtlpSafeValues(new otlp.OTLPLogExporter());
}

/**
 * Records this SDK made itself (client calls, console, crashes) carry metadata as the app gave it:
 * Errors, BigInts, Dates, cycles, which OTLP's transformer cannot carry (a cycle overflows its
 * stack). They go out with the metadata Astralog gets, made safe by the same encoder. Records from
 * the OTel Logger are already valid and pass as they are.
 */
class OtlpSafeValues implements LogRecordExporter {
  private readonly inner: LogRecordExporter;
  private readonly encoder = new EventEncoder({ projectId: undefined, service: undefined, redactKeys: DEFAULT_REDACT_KEYS, ...DEFAULT_EVENT_LIMITS });

  constructor(inner: LogRecordExporter) {
    this.inner = inner;
  }

  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.inner.export(records.map((r) => (r instanceof AstralogLogRecord ? this.safe(r) : r)), done);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private safe(record: AstralogLogRecord): AstralogLogRecord {
    const event = JSON.parse(this.encoder.encodeEvent(record)) as { message: string; metadata: Record<string, unknown> };
    const { span_id: _spanId, ...metadata } = event.metadata; // OTLP carries the span itself
    return new AstralogLogRecord(record.timeMs, record.level, typeof record.body === 'string' ? record.body : event.message, metadata, record.spanContext, record.origin);
  }
}
