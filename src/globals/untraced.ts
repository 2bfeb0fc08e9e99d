import type { Context } from '@opentelemetry/api';
import { activeContextReadable, otelRegistration } from '../ground/otel-registry.ts';
import { otelApi } from './otel-packages.ts';

/**
 * The key @opentelemetry/core's suppressTracing sets and its isTracingSuppressed (which instrumentations
 * ask) reads: set here without loading core, about 45 ms of CPU at the first export
 * (test/unit/deferred-otel.test.ts checks it against core's own).
 */
const SUPPRESS_TRACING_KEY = 'OpenTelemetry SDK Context Key SUPPRESS_TRACING';
let untraced: Context | undefined;

/**
 * Calls `fn` where the SDK's own exports run: never traced (an http instrumentation, OpenTelemetry's
 * or any APM's, would otherwise trace every export inside the app's own traces and add headers to
 * it), and outside whatever context the export was started from. With no tracer provider registered
 * (no instrumentation makes spans) and no context ever entered, there is nothing to suppress or
 * leave: nothing is loaded then.
 */
export function callUntraced<A extends unknown[], R>(fn: (...args: A) => R, thisArg: unknown, ...args: A): R {
  if (otelRegistration('trace') === undefined && !activeContextReadable()) return fn.apply(thisArg, args);
  const api = otelApi();
  untraced ??= api.ROOT_CONTEXT.setValue(api.createContextKey(SUPPRESS_TRACING_KEY), true);
  return api.context.with(untraced, fn, thisArg, ...args);
}
