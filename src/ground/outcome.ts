// The outcome of an export as our exporter reports it and our processor reads it. No imports of
// ours: the processor and the register do not load the exporter to speak of its results.
import type { ExportResultCode } from '@opentelemetry/core';

/** Why records of an export were not delivered, when retrying them later could still succeed. */
export type ExportFailureReason =
  | 'unauthorized' // 401/403: sending paused until the key works
  | 'retriesExhausted' // 429/5xx/network errors outlasted the attempts or the time budget
  | 'httpError' // an answer that is neither success nor retryable (404, 405, …)
  | 'network' // a failure a retry cannot cure (TLS verification, bad request options)
  | 'shutdown'; // abandoned because the exporter shut down

/** What became of each record of one export. */
export interface ExportOutcome<Reason extends string = ExportFailureReason> {
  delivered: number;
  /** Refused for good: retrying the same event cannot succeed. */
  rejected: { badRequest: number; tooLarge: number };
  /** Indexes (into the exported array) of records not delivered, which a later attempt could deliver. */
  failed: number[];
  /**
   * Indexes of records whose request was written to a connection but never answered (a timeout, a
   * reset, a malformed answer): they may have arrived. The exporter does not send them again; a
   * processor may, once (AstralogBatchLogRecordProcessor does).
   */
  unanswered: number[];
  failureReason: Reason | undefined;
  /** When Astralog asked for a pause (Retry-After) longer than the export could wait: how long, in ms. */
  retryAfterMs?: number;
  /** What went wrong last, for a message (`ECONNREFUSED: connect …`, `HTTP 503`); never a secret. */
  cause?: string;
}

/** An outcome in which none of `count` records was delivered, for `reason`. */
export function allFailed<Reason extends string>(count: number, reason: Reason): ExportOutcome<Reason> {
  return {
    delivered: 0,
    rejected: { badRequest: 0, tooLarge: 0 },
    failed: Array.from({ length: count }, (_, i) => i),
    unanswered: [],
    failureReason: count > 0 ? reason : undefined,
  };
}

/**
 * OpenTelemetry's ExportResultCode values (SUCCESS 0, FAILED 1), for the results our exporters
 * report through the LogRecordExporter interface without loading @opentelemetry/core for its enum.
 */
export const EXPORT_SUCCESS = 0 as ExportResultCode.SUCCESS;
export const EXPORT_FAILED = 1 as ExportResultCode.FAILED;
