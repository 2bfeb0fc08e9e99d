import { diag } from '@opentelemetry/api';
import { PREFIX, writeStderr } from './register/stderr.ts';

// The SDK's own messages go to OTel diag and straight to the stderr stream, never through
// console.*, so a captured console can never feed them back into the pipeline. The plain stderr
// writer lives in register/stderr.ts, free of imports, for register's early exit.

const reported = new Set<string>();
const secrets = new Set<string>();

/**
 * A value never to be printed (an API key, proxy credentials): every message reported here is
 * masked of it, wherever it comes from (a server or a proxy may echo headers in an error body).
 */
export function registerSecret(value: string | undefined): void {
  if (value !== undefined && value.length >= 4) secrets.add(value);
}

/** `text` without registered secrets, `Bearer …`/`Basic …` credentials or credentials in URLs. */
export function maskSecrets(text: string): string {
  let masked = text;
  for (const secret of secrets) masked = masked.split(secret).join('[REDACTED]');
  return masked
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]+=*/gi, '$1 [REDACTED]')
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1[REDACTED]@');
}

/** Reports an error through diag and stderr. */
export function reportError(message: string): void {
  const masked = maskSecrets(message);
  diag.error(PREFIX + masked);
  writeStderr(masked);
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
  const masked = maskSecrets(message);
  diag.info(PREFIX + masked);
  writeStderr(masked);
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
