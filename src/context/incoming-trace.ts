import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Context, ContextManager, TextMapPropagator } from '@opentelemetry/api';
import { otelApi, otelCore } from '../globals/otel-packages.ts';
import { otelRegistration } from '../ground/otel-registry.ts';

/** Published by Node's HTTP server (http and https) for each request, before its 'request' event. */
const REQUEST_START = 'http.server.request.start';
/** Published when a net server (http and https ones too) has started listening; the message holds it. */
const LISTENING = 'tracing:net.server.listen:asyncEnd';


/**
 * Context key of the context a request started in, kept under the context bound from its
 * traceparent: the next request of the same connection starts from it again, not from ours.
 */
const OUTER = Symbol.for('@astralog/otel incoming request: outer context'); // a context key, as createContextKey makes them

/**
 * Validates like every OTel propagator (version ff, all-zero ids, upper case, bad lengths are
 * refused). Made for the first traceparent header: @opentelemetry/core is not loaded before.
 */
let propagator: TextMapPropagator | undefined;
const traceparentPropagator = (): TextMapPropagator => (propagator ??= new (otelCore().W3CTraceContextPropagator)());

/** A context manager that can make a context active for the rest of the current execution (AsyncLocalStorage's enterWith). */
export type AttachingContextManager = ContextManager & Required<Pick<ContextManager, 'attach'>>;

/** Whether a tracer provider is registered in the OTel API globals (then spans, not headers, carry the trace). */
export function tracerProviderRegistered(): boolean {
  return otelRegistration('trace') !== undefined;
}

/**
 * `base` with the remote span context of a valid W3C `traceparent` (and its `tracestate`) in
 * `headers`, as a non-recording span; undefined when there is none, or it is invalid.
 */
export function incomingTraceContext(base: Context, headers: IncomingHttpHeaders): Context | undefined {
  if (headers.traceparent === undefined) return undefined;
  const extracted = traceparentPropagator().extract(base, headers, otelApi().defaultTextMapGetter);
  return extracted === base ? undefined : extracted;
}

interface RequestStart {
  request: IncomingMessage;
  response: ServerResponse;
  socket: object;
}

/**
 * While no tracer provider is registered (checked per request, so one registered later takes
 * over), makes each incoming HTTP request's traceparent the active span context for the whole
 * of its handling: the handler, whatever it starts (awaits, timers) and the listeners of its
 * request and response (body and 'finish' events come from the socket, outside the handler).
 * So every log source (the client, console capture, OTel Logs API records) correlates.
 *
 * The context is entered in the channel's subscriber, which Node runs synchronously right before
 * the 'request' event. Entering lasts past the request on Node 22 (async_hooks: the store stays on
 * the connection's parser resource, shared by its keep-alive requests) and across pipelined
 * requests parsed in one read, so every request, with a traceparent or not, first goes back to the
 * context its connection started in. Binding a response binds Node's own 'finish' listener too
 * (added right after this channel), which starts the next pipelined response of the connection:
 * so the later requests of a connection that carried a traced one are bound, to their own context.
 *
 * `manager` must be the registered global context manager. Once an HTTP server (one with a
 * 'request' listener: not a port probe, nor the cluster primary's own server) listens, `prepare` is
 * called and the propagator made, a moment later, while no tracer provider is registered: what a
 * traced request needs is then loaded (about 70 ms of CPU) before the first one, not during it.
 * Returns a function that stops it.
 */
export function bindIncomingTraceparent(manager: AttachingContextManager, prepare: () => void = () => undefined): () => void {
  /** Connections that carried a request bound to its traceparent. */
  const tracedConnections = new WeakSet<object>();
  const onRequestStart = (message: unknown): void => {
    try {
      const { request, response, socket } = message as RequestStart;
      const active = manager.active();
      const outer = (active.getValue(OUTER) as Context | undefined) ?? active;
      // A tracer provider's HTTP instrumentation binds request and response to its span itself (and
      // an emitter bound twice keeps its first binding): leave them alone.
      if (tracerProviderRegistered()) {
        if (outer !== active) manager.attach(outer);
        return;
      }
      const bound = incomingTraceContext(outer, request.headers);
      let ctx = outer;
      if (bound !== undefined) {
        ctx = bound.setValue(OUTER, outer);
        tracedConnections.add(socket);
      } else if (!tracedConnections.has(socket)) {
        if (outer !== active) manager.attach(outer);
        return;
      }
      if (ctx !== active) manager.attach(ctx); // never disposed: it ends with the current execution, or at the next request
      manager.bind(ctx, request);
      manager.bind(ctx, response);
    } catch {
      // Never into the application's request handling: this request is just not correlated.
    }
  };
  const onListening = (message: unknown): void => {
    try {
      const server = (message as { server?: { listenerCount?: (event: string) => number } } | undefined)?.server;
      if (typeof server?.listenerCount !== 'function' || server.listenerCount('request') === 0) return;
      unsubscribe(LISTENING, onListening);
      setImmediate(() => {
        try {
          if (tracerProviderRegistered()) return; // its spans carry the trace: nothing of ours is needed
          traceparentPropagator();
          prepare();
        } catch {
          // loaded at the first traced request instead (and failing there, that request is not correlated)
        }
      }).unref();
    } catch {
      // never into the application's listen
    }
  };
  subscribe(REQUEST_START, onRequestStart);
  subscribe(LISTENING, onListening);
  return () => {
    unsubscribe(REQUEST_START, onRequestStart);
    unsubscribe(LISTENING, onListening);
  };
}
