import { otelApi } from './globals/otel-packages.ts';
import { otelRegistration } from './ground/otel-registry.ts';
import { maskSecrets, PREFIX, writeStderr } from './ground/stderr.ts';

export { maskSecrets, registerSecret } from './ground/stderr.ts';

// The SDK's own messages go to OTel diag and straight to the stderr stream, never through
// console.*, so a captured console can never feed them back into the pipeline. The plain stderr
// writer lives in ground/stderr.ts, free of imports, for register's early exit.

const reported = new Set<string>();

/** To OTel's diag logger too, when the app (or OTEL_LOG_LEVEL) set one: without one, diag drops everything. */
function toDiag(level: 'error' | 'info', message: string): void {
  if (otelRegistration('diag') === undefined) return;
  otelApi().diag[level](PREFIX + maskSecrets(message));
}

/** Reports an error through diag and stderr. */
export function reportError(message: string): void {
  toDiag('error', message);
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
  toDiag('info', message);
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
