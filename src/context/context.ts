import { context, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { otelRegistration } from '../ground/otel-registry.ts';
import { bindIncomingTraceparent, tracerProviderRegistered } from './incoming-trace.ts';

/**
 * Context key of the metadata bound by `withContext`. A registry symbol, so the ESM and CommonJS
 * copies of this package (both may load in one process) read each other's bindings.
 */
export const BOUND_METADATA = Symbol.for('@astralog/otel.bound-metadata');

/**
 * Marks a context manager this package registered, so every copy of it (ESM and CommonJS, register
 * and createAstralog) knows incoming traceparent headers are bound.
 */
const OURS = Symbol.for('@astralog/otel.context-manager');

/**
 * 'registered': ours is in place (registered now or by another copy of this package): it follows
 * async work and binds incoming traceparent headers while no tracer provider is registered.
 * 'existing': the application's (NodeSDK's…): spans correlate, incoming headers are not read.
 * 'failed': another @opentelemetry/api version owns the globals: no correlation.
 */
export type ContextManagerState = 'registered' | 'existing' | 'failed';

/**
 * Makes sure a context manager is registered, so the active span and `withContext` bindings follow
 * async work. Never replaces one already registered (NodeSDK's, or the app's).
 */
export function ensureContextManager(): ContextManagerState {
  const registered = otelRegistration('context') as Record<symbol, unknown> | undefined;
  if (registered !== undefined) return registered[OURS] === true ? 'registered' : 'existing';
  const manager = new AsyncLocalStorageContextManager().enable();
  if (context.setGlobalContextManager(manager)) {
    Object.defineProperty(manager, OURS, { value: true });
    bindIncomingTraceparent(manager);
    return 'registered';
  }
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

/**
 * Where an event's trace id comes from now (besides an explicit or bound `trace_id`): 'spans' once
 * a tracer provider is registered, 'traceparent' (incoming request headers) while none is and the
 * context manager is ours, 'none' while none is and the context manager is the application's,
 * 'off' when no context manager could be registered.
 */
export type CorrelationSource = 'spans' | 'traceparent' | 'none' | 'off';

export function correlationSource(state: ContextManagerState): CorrelationSource {
  if (state === 'failed') return 'off';
  if (tracerProviderRegistered()) return 'spans';
  return state === 'registered' ? 'traceparent' : 'none';
}
