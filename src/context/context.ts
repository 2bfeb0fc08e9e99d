import type { Context, ContextManagementToken, ContextManager } from '@opentelemetry/api';
import { otelApi, otelContextApi, otelContextAsyncHooks, otelRootContext } from '../globals/otel-packages.ts';
import { CALL_SYNCHRONOUSLY, CONTEXT_MANAGER_IDLE, otelRegistration } from '../ground/otel-registry.ts';
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
 * Our context manager: context-async-hooks' AsyncLocalStorageContextManager, created the first time a
 * context is entered through it (a span started, withContext, a traced request): creating it loads
 * the whole OpenTelemetry API, about 25 ms of CPU, which a process that never enters a context
 * should not pay at start-up. Until then no context can be active, so the root context is.
 */
class DeferredContextManager implements ContextManager {
  readonly #root: Context;
  #manager: Required<ContextManager> | undefined;
  #enabled = true;
  /** The context of a call run by CALL_SYNCHRONOUSLY while idle, during its synchronous part. */
  #synchronous: Context | undefined;
  /** The manager created during such a call, with that call's context attached to it. */
  #attached: ContextManagementToken | undefined;

  constructor(root: Context) {
    this.#root = root;
  }

  get [CONTEXT_MANAGER_IDLE](): boolean {
    return this.#manager === undefined;
  }

  #entered(): Required<ContextManager> {
    if (this.#manager === undefined) {
      const manager = new (otelContextAsyncHooks().AsyncLocalStorageContextManager)();
      this.#manager = this.#enabled ? manager.enable() : manager;
      // Created inside a CALL_SYNCHRONOUSLY call: that call's context stays active until it returns.
      if (this.#synchronous !== undefined) this.#attached = this.#manager.attach(this.#synchronous);
    }
    return this.#manager;
  }

  active(): Context {
    return this.#manager === undefined ? (this.#synchronous ?? this.#root) : this.#manager.active();
  }

  /** Creates the underlying manager now, ahead of the first context (a server about to take requests). */
  prepare(): void {
    this.#entered();
  }

  /**
   * Runs `fn` with `context` active. While idle, for the synchronous part of `fn` only, and without
   * creating the manager: enough for what decides synchronously (an http instrumentation asks
   * whether tracing is suppressed as the request is made), at no start-up cost. Otherwise as with().
   */
  [CALL_SYNCHRONOUSLY]<A extends unknown[], R>(context: Context, fn: (...args: A) => R, thisArg: unknown, ...args: A): R {
    if (this.#manager !== undefined) return this.#manager.with(context, fn, thisArg, ...args);
    const outer = this.#synchronous;
    this.#synchronous = context;
    try {
      return fn.apply(thisArg, args);
    } finally {
      this.#synchronous = outer;
      if (this.#attached !== undefined) {
        this.#attached.dispose();
        const created = this.#manager as Required<ContextManager> | undefined; // by fn, since the check above
        this.#attached = outer === undefined ? undefined : created?.attach(outer);
      }
    }
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#entered().with(context, fn, thisArg, ...args);
  }

  bind<T>(context: Context, target: T): T {
    return this.#entered().bind(context, target);
  }

  attach(context: Context): ContextManagementToken {
    return this.#entered().attach(context);
  }

  enable(): this {
    this.#enabled = true;
    this.#manager?.enable();
    return this;
  }

  disable(): this {
    this.#enabled = false;
    this.#manager?.disable();
    return this;
  }
}

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
  const manager = new DeferredContextManager(otelRootContext());
  if (otelContextApi().setGlobalContextManager(manager)) {
    Object.defineProperty(manager, OURS, { value: true });
    bindIncomingTraceparent(manager, () => manager.prepare());
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
  const { context } = otelApi();
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
