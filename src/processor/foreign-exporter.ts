import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { otelCore } from '../globals/otel-packages.ts';
import { callUntraced } from '../globals/untraced.ts';
import { allFailed, EXPORT_FAILED, EXPORT_SUCCESS, type ExportOutcome } from '../ground/outcome.ts';

/**
 * Any LogRecordExporter, as the processor drives exporters: exportRecords resolves with an outcome.
 * Such an exporter says SUCCESS or FAILED for a whole batch and may retry on its own, so the
 * processor behind it follows the Logs SDK specification (see `ours` in processor.ts): a failed
 * batch is dropped, and its error goes to OpenTelemetry's global error handler, as the stock
 * BatchLogRecordProcessor reports it.
 */
export class ForeignExporter {
  private readonly exporter: LogRecordExporter;

  constructor(exporter: LogRecordExporter) {
    this.exporter = exporter;
  }

  /** Resolves with the outcome, and the exporter's error for a failure (the processor reports it, once). */
  exportRecords(records: readonly ReadableLogRecord[], _options?: { background?: boolean }): Promise<ExportOutcome<'foreign'> & { error?: Error }> {
    const n = records.length;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: ExportResult | undefined) => {
        if (settled) return; // an exporter that calls back twice
        settled = true;
        let outcome: ExportOutcome<'foreign'> & { error?: Error };
        if (result?.code === EXPORT_SUCCESS) {
          outcome = { delivered: n, rejected: { badRequest: 0, tooLarge: 0 }, failed: [], unanswered: [], failureReason: undefined };
        } else {
          const error = result?.error ?? new Error('log record export failed');
          outcome = { ...allFailed(n, 'foreign'), cause: error.message, error };
        }
        // Told a microtask later: an exporter may count its export as under way until just after
        // its callback (the OTLP exporters do, until a microtask queued as the callback returns),
        // and the next export starts from here. A later turn would do as well, but behind an
        // exporter that calls back at once it would send one batch per turn of the event loop.
        queueMicrotask(() => resolve(outcome));
      };
      try {
        // Never traced, as the stock processor exports: an http instrumentation would trace the export itself.
        callUntraced(this.exporter.export, this.exporter, records as ReadableLogRecord[], settle);
      } catch (error) {
        settle({ code: EXPORT_FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  }
}

/** OpenTelemetry's global error handler (diag by default; the app may set its own, which must not throw into us). */
export function reportExportError(error: Error): void {
  try {
    otelCore().globalErrorHandler(error);
  } catch {
    // an application's handler failed: nothing more to tell
  }
}
