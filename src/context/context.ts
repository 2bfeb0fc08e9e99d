import { context, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * Context key of the metadata bound by `withContext`. A registry symbol, so the ESM and CommonJS
 * copies of this package (both may load in one process) read each other's bindings.
 */
export const BOUND_METADATA = Symbol.for('@astralog/otel.bound-metadata');

/** The global where @opentelemetry/api 1.x keeps its registrations (its documented global key). */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

export type ContextManagerState = 'registered' | 'existing' | 'failed';

/**
 * Makes sure a context manager is registered, so the active span and `withContext` bindings follow
 * async work. Never replaces one already registered (NodeSDK's, or the app's).
 */
export function ensureContextManager(): ContextManagerState {
  const registry = (globalThis as Record<symbol, { context?: unknown } | undefined>)[OTEL_API_GLOBAL];
  if (registry?.context !== undefined) return 'existing';
  const manager = new AsyncLocalStorageContextManager().enable();
  if (context.setGlobalContextManager(manager)) return 'registered';
  // Another @opentelemetry/api version owns the globals: correlation cannot work through them.
  manager.disable();
  return 'failed';
}

/** Metadata bound to the current context by `withContext`, if any. */
export function boundMetadata(ctx: Context): Readonly<Record<string, unknown>> | undefined {
  return ctx.getValue(BOUND_METADATA) as Readonly<Record<string, unknown>> | undefined;
}

/**
 * Runs `fn` with `metadata` merged over the metadata already bound, for everything logged inside it,
 * across awaits, timers and event emitters (through the context manager). Nothing leaks outside `fn`.
 * `metadata` must be a fresh object (the caller's copy): it is kept, frozen, when nothing is bound yet.
 */
export function withBoundMetadata<T>(metadata: Record<string, unknown>, fn: () => T): T {
  const active = context.active();
  const outer = boundMetadata(active);
  const merged = Object.freeze(outer === undefined ? metadata : { ...outer, ...metadata });
  return context.with(active.setValue(BOUND_METADATA, merged), fn);
}
