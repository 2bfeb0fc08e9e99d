// No imports: register's early exit (register/index.ts) prints through this without loading
// @opentelemetry/api. diagnostics.ts builds its diag-and-stderr reporting on it.

export const PREFIX = '[@astralog/otel] ';

/** A line on stderr with the package prefix, written to the stream itself (never through console). */
export function writeStderr(message: string): void {
  try {
    process.stderr.write(PREFIX + message + '\n');
  } catch {
    // stderr closed or broken: nothing better to do, and never throw into the app.
  }
}
