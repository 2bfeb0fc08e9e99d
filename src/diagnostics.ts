import { diag } from '@opentelemetry/api';

// The SDK's own messages go to OTel diag and straight to the stderr stream, never through
// console.*, so a captured console can never feed them back into the pipeline.
const PREFIX = '[@astralog/otel] ';
const reported = new Set<string>();

/** A line on stderr with the package prefix, written to the stream itself (never through console). */
export function writeStderr(message: string): void {
  try {
    process.stderr.write(PREFIX + message + '\n');
  } catch {
    // stderr closed or broken: nothing better to do, and never throw into the app.
  }
}

/** Reports an error through diag and stderr. */
export function reportError(message: string): void {
  diag.error(PREFIX + message);
  writeStderr(message);
}

/** Reports a message once per `key` for the life of the process (e.g. one line for a rejected key). */
export function reportOnce(key: string, message: string): void {
  if (reported.has(key)) return;
  reported.add(key);
  reportError(message);
}

/** Lets a condition be reported again once it has cleared (e.g. after the key works again). */
export function clearReported(key: string): void {
  reported.delete(key);
}

/** Informational message (e.g. recovery), through diag and stderr. */
export function reportInfo(message: string): void {
  diag.info(PREFIX + message);
  writeStderr(message);
}

const lastReportedAt = new Map<string, number>();

/** Reports at most once per `intervalMs` per key, so a storm of drops is one line, not thousands. */
export function reportThrottled(key: string, message: string, intervalMs = 5_000): void {
  const now = Date.now();
  const last = lastReportedAt.get(key);
  if (last !== undefined && now - last < intervalMs) return;
  lastReportedAt.set(key, now);
  reportError(message);
}
