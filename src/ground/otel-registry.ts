// No imports. @opentelemetry/api 1.x keeps what is registered (context manager, tracer and logger
// providers) in one global object under a documented registered symbol, shared by all its module
// copies (ESM, CommonJS): reading it tells what any copy registered, without asking a particular one.

const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** What is registered on @opentelemetry/api for `kind`, by any of its copies; undefined when nothing is. */
export function otelRegistration(kind: 'context' | 'trace' | 'logs' | 'diag'): unknown {
  return (globalThis as Record<symbol, Partial<Record<typeof kind, unknown>> | undefined>)[OTEL_API_GLOBAL]?.[kind];
}

/**
 * On this package's context manager: runs a call with a context active for the call's synchronous
 * part, without creating the underlying manager while idle (context/context.ts).
 */
export const CALL_SYNCHRONOUSLY = Symbol.for('@astralog/otel.context-manager-call-synchronously');

/** True on this package's context manager while no context was ever entered through it (context/context.ts). */
export const CONTEXT_MANAGER_IDLE = Symbol.for('@astralog/otel.context-manager-idle');

/**
 * Whether the active context can hold anything: a context manager is registered, and it is not ours
 * before any context was entered through it. Answered without loading any OpenTelemetry module.
 */
export function activeContextReadable(): boolean {
  const registered = otelRegistration('context') as Record<symbol, unknown> | undefined;
  return registered !== undefined && registered[CONTEXT_MANAGER_IDLE] !== true;
}
