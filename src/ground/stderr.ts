// No imports: register's early exit (register/index.ts) prints through this without loading
// @opentelemetry/api. diagnostics.ts builds its diag-and-stderr reporting on it.

export const PREFIX = '[@astralog/otel] ';

const secrets = new Set<string>();

/**
 * A value never to be printed (an API key, proxy credentials): every line written here, and every
 * message diagnostics.ts reports, is masked of it, wherever it comes from (a server or a proxy may
 * echo headers in an error body).
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

/** A line on stderr with the package prefix, masked of secrets, written to the stream itself (never through console). */
export function writeStderr(message: string): void {
  try {
    process.stderr.write(PREFIX + maskSecrets(message) + '\n');
  } catch {
    // stderr closed or broken: nothing better to do, and never throw into the app.
  }
}
