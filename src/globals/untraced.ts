import type { Context } from '@opentelemetry/api';
import { CALL_SYNCHRONOUSLY, otelRegistration } from '../ground/otel-registry.ts';
import { otelContextApi, otelRootContext } from './otel-packages.ts';

// Where the SDK's own exports run: never traced (an http instrumentation, OpenTelemetry's or any
// APM's, would otherwise trace every export inside the app's own traces and add headers to it),
// and outside whatever context the export was started from.

/**
 * The key @opentelemetry/core's suppressTracing sets and its isTracingSuppressed (which instrumentations
 * ask) reads, made as createContextKey makes keys (Symbol.for): set here without loading core, about
 * 45 ms of CPU at the first export (test/unit/deferred-otel.test.ts checks it against core's own).
 */
const SUPPRESS_TRACING_KEY = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');
let untraced: Context | undefined;
const untracedContext = (): Context => (untraced ??= otelRootContext().setValue(SUPPRESS_TRACING_KEY, true));

type Runner = <A extends unknown[], R>(context: Context, fn: (...args: A) => R, thisArg: unknown, ...args: A) => R;

/** Calls `fn` untraced, for all it starts (awaits, timers, callbacks). With no context manager registered, there is no context to set. */
export function callUntraced<A extends unknown[], R>(fn: (...args: A) => R, thisArg: unknown, ...args: A): R {
  if (otelRegistration('context') === undefined) return fn.apply(thisArg, args);
  return otelContextApi().with(untracedContext(), fn, thisArg, ...args);
}

/**
 * Calls `fn` untraced for its synchronous part (what an http instrumentation decides as a request
 * is made), for which this package's context manager, while no context was ever entered, needs
 * nothing loaded: a process that never traces pays nothing for it.
 */
export function callUntracedSynchronously<A extends unknown[], R>(fn: (...args: A) => R, thisArg: unknown, ...args: A): R {
  const manager = otelRegistration('context') as { [CALL_SYNCHRONOUSLY]?: Runner } | undefined;
  if (typeof manager?.[CALL_SYNCHRONOUSLY] !== 'function') return callUntraced(fn, thisArg, ...args);
  return manager[CALL_SYNCHRONOUSLY](untracedContext(), fn, thisArg, ...args);
}
