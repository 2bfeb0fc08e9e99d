import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Dispatcher, Pool, ProxyAgent, buildConnector } from 'undici';
import { PACKAGE_VERSION } from '../version.ts';
import { PROXY_AUTH_REQUIRED } from './verdict.ts';

const gzipAsync = promisify(gzip);

/** Bytes of an error answer kept for diagnostics. */
const MAX_ERROR_BODY = 4096;
/** How long to wait for the body of an error answer once its status is known. */
const ERROR_BODY_WAIT_MS = 1_000;
/**
 * Connections open at once. An export sends one request at a time, so a processor uses at most one
 * per export in flight (maxConcurrentExports, at most 64); this bounds only a caller that starts more.
 */
const MAX_CONNECTIONS = 64;

/** The parts of undici the transport uses. */
export interface UndiciParts {
  Pool: typeof Pool;
  ProxyAgent: typeof ProxyAgent;
  buildConnector: typeof buildConnector;
  /** Dispatcher.connect (CONNECT), which the proxy agent asks of the pool it tunnels through. */
  connect: Dispatcher['connect'];
}

let undici: UndiciParts | undefined;

/**
 * undici's pool, proxy agent, connector and CONNECT call, loaded at the first request rather than
 * at start-up: `require('undici')` costs 110-150 ms of CPU (its entry point also loads fetch,
 * WebSocket, caches and mocks), these modules about 60 ms (half of it node:http2, which undici's
 * client loads whatever the protocol), and a process that never sends pays nothing. They are the very functions the entry point exports (undici has no exports map; a test
 * checks). The entry point also puts the call APIs on every dispatcher; of those the proxy agent
 * needs only `connect`, which createDispatcher gives the pools it makes.
 */
export function loadUndici(): UndiciParts {
  if (undici === undefined) {
    const load = createRequire(import.meta.url);
    undici = {
      Pool: load('undici/lib/dispatcher/pool') as typeof Pool,
      ProxyAgent: load('undici/lib/dispatcher/proxy-agent') as typeof ProxyAgent,
      buildConnector: load('undici/lib/core/connect') as typeof buildConnector,
      connect: load('undici/lib/api/api-connect') as Dispatcher['connect'],
    };
  }
  return undici;
}

export const USER_AGENT = `astralog-otel-js/${PACKAGE_VERSION} node/${process.version}`;

/** Everything a transport needs; plain data, so that a worker thread can build the same one. */
export interface TransportConfig {
  /** The drain URL. */
  url: string;
  apiKey: string;
  headers: Record<string, string>;
  compression: 'none' | 'gzip';
  ca: string | Buffer | Array<string | Buffer> | undefined;
  /** The proxy's URL, credentials included; undefined for a direct connection. */
  proxy: string | undefined;
}

export interface TransportResponse {
  status: number;
  retryAfter: string | undefined;
  /** The start of the answer's body (error answers only), for diagnostics. */
  body: string;
}

export interface SendOptions {
  /** Bounds the whole request; the request is given up on (ETIMEDOUT) after it. */
  timeoutMs: number;
  /** Aborting it gives up on the request (ABORT_ERR). */
  signal: AbortSignal;
  /**
   * Whether the request holds the process open (through its timer) until it settles. False for a
   * background export: nothing of it does. Default true.
   */
  keepProcessAlive?: boolean;
  /** Called once no socket will read the payload any more. */
  onReleased?: () => void;
  /** Called when the request is written to an open connection: from then on it may arrive. */
  onWritten?: () => void;
}

/** A failure below HTTP: the request produced no status. `code` is Node's or undici's (ECONNRESET, UND_ERR_SOCKET, …) or ours. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * POSTs request bodies to the drain URL through undici: a keep-alive pool for the endpoint's
 * origin (the server's `Keep-Alive: timeout` honoured, idle sockets checked before reuse), or the
 * same through an HTTP(S) proxy (CONNECT for an https endpoint, forwarding for an http one). Knows
 * HTTP, not Astralog: it reports what happened and leaves deciding what that means to the
 * exporter (verdict.ts).
 *
 * Sockets never hold the process open on their own: a request somebody waits for holds it through
 * its timer (send's keepProcessAlive), for at most its timeout.
 */
export class HttpTransport {
  private readonly config: TransportConfig;
  /** Made at the first request. */
  private dispatcher: Dispatcher | undefined;
  private readonly origin: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly compression: 'none' | 'gzip';
  private readonly exchanges = new Set<Exchange>();
  private destroyed = false;

  constructor(config: TransportConfig) {
    this.config = config;
    const url = new URL(config.url);
    this.origin = url.origin;
    this.path = `${url.pathname || '/'}${url.search}`;
    this.compression = config.compression;
    this.headers = {
      ...config.headers,
      'user-agent': config.headers['user-agent'] ?? USER_AGENT,
      'content-type': 'application/json',
      authorization: `Bearer ${config.apiKey}`,
      ...(config.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
    for (const [name, value] of Object.entries(this.headers)) {
      // The options were validated; a line break here would desynchronise the connection, so check anyway.
      if (/[^\t\x20-\x7e\x80-\xff]/.test(name + value)) throw new TypeError(`header '${name}' is not printable Latin-1`);
    }
  }

  /** The bytes to send for a JSON body (gzip runs on the libuv thread pool, off the main thread). */
  async encodeBody(json: Buffer): Promise<Buffer> {
    return this.compression === 'gzip' ? gzipAsync(json) : json;
  }

  /** The same, synchronously (for a last delivery from a worker thread). */
  encodeBodySync(json: Buffer): Buffer {
    return this.compression === 'gzip' ? gzipSync(json) : json;
  }

  /**
   * Sends one request. Resolves with the status once it is known (a slow or endless body after a
   * 2xx cannot turn a delivered batch into a failure); rejects with TransportError otherwise.
   * `onReleased` is called once no socket will read `payload` any more (the request ended, or was
   * given up on and lost its connection): only then may its memory be reused.
   */
  send(payload: Buffer, options: SendOptions): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      if (options.signal.aborted || this.destroyed) {
        reject(abortError());
        options.onReleased?.();
        return;
      }
      const exchange = new Exchange(resolve, reject, options, () => this.exchanges.delete(exchange));
      this.exchanges.add(exchange);
      payloadOwners.set(payload, exchange);
      exchange.payload = payload;
      try {
        const dispatcher = (this.dispatcher ??= createDispatcher(this.config));
        const request = { origin: this.origin, path: this.path, method: 'POST', headers: this.headers, body: payload };
        // Never traced: an undici instrumentation (OpenTelemetry's, any APM's) would otherwise trace
        // every export inside the app's own traces and add headers to it.
        context.with(suppressTracing(context.active()), () => dispatcher.dispatch(request, exchange));
      } catch (error) {
        exchange.abandon(transportError(error));
      }
    });
  }

  /** Closes every socket, idle or busy; requests under way fail as aborted, later ones at once. */
  destroy(): void {
    this.destroyed = true;
    for (const exchange of this.exchanges) exchange.abandon(abortError());
    this.dispatcher?.destroy().catch(() => undefined);
  }
}

/** undici's pool for the endpoint, or a proxy agent in front of one. */
function createDispatcher(config: TransportConfig): Dispatcher {
  const { Pool, ProxyAgent, buildConnector, connect: tunnel } = loadUndici();
  const detached = detachedWith(buildConnector);
  const tls = config.ca === undefined ? {} : { ca: config.ca };
  if (config.proxy === undefined) {
    return new Pool(new URL(config.url).origin, { connections: MAX_CONNECTIONS, connect: detached(tls) });
  }
  const pool = (origin: string | URL, options: object): Dispatcher => {
    const connect = (options as { connect?: unknown }).connect;
    return Object.assign(new Pool(origin, { connections: MAX_CONNECTIONS, ...options, connect: detached(connect) }), { connect: tunnel });
  };
  return new ProxyAgent({
    uri: config.proxy,
    // An http endpoint is forwarded (absolute-form requests), as curl and Go do; an https one is
    // always tunnelled with CONNECT, so the proxy never sees the key.
    proxyTunnel: false,
    requestTls: tls,
    connections: MAX_CONNECTIONS,
    clientFactory: pool,
    factory: pool,
  });
}

/**
 * undici refs a socket while it carries a request; these never are: a background export must not
 * keep the process alive. Whoever waits for an answer holds the process through that request's own
 * timer instead. Applied to the socket as soon as it exists (also while it connects) and again to
 * what a connector hands over (a TLS socket over a proxy's tunnel). `connect` is a connector
 * function (the proxy's tunnel), or the TLS options of a fresh one.
 */
function detachedWith(build: typeof buildConnector) {
  return (connect: unknown): buildConnector.connector => {
    const inner = typeof connect === 'function' ? (connect as buildConnector.connector) : build({ ...(connect as object) });
    return (options, callback) => {
      const socket: unknown = inner(options, (...args) => {
        const connected = args[1];
        if (connected) detach(connected); // an error passes none
        callback(...args);
      });
      if (socket instanceof EventEmitter) detach(socket as Socket); // a connector may return nothing (the proxy's tunnel)
      return socket as undefined;
    };
  };
}

function detach(socket: Socket): void {
  socket.unref();
  socket.ref = () => socket;
  // undici hands a Buffer body to socket.write, which keeps reading that memory until the write
  // completes; a response can end before then (an early answer on a kept-alive connection), and
  // the exporter reuses the memory once released. So a payload is released only once its writes
  // have completed (or failed, the socket destroyed): their callbacks say so.
  const write = socket.write as (...args: unknown[]) => boolean;
  socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]): boolean {
    const owner = typeof chunk === 'object' && chunk !== null ? payloadOwners.get(chunk) : undefined;
    if (owner === undefined) return write.call(this, chunk, ...rest);
    const callback = typeof rest.at(-1) === 'function' ? (rest.pop() as (error?: Error | null) => void) : undefined;
    owner.writeStarted();
    return write.call(this, chunk, ...rest, (error?: Error | null) => {
      owner.writeEnded();
      callback?.(error);
    });
  } as Socket['write'];
}

/**
 * Each payload given to undici and not released yet, and the exchange whose release waits for its
 * writes (see detach). A Map, emptied as exchanges are released, rather than a WeakMap: its
 * short-lived keys made GC work (callgrind, 100k events end to end).
 */
const payloadOwners = new Map<object, Exchange>();

/**
 * One request and its answer, as undici's dispatch handler. Settles once: a 2xx as soon as its
 * status is known, an error answer with the start of its body (or what came of it within
 * ERROR_BODY_WAIT_MS), or a TransportError.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  /** Why we gave up on the request, if we did; a request undici starts later is aborted at once. */
  private abandonedWith: TransportError | undefined;
  /** The final status, once its head has arrived (1xx answers aside). */
  private status = 0;
  private retryAfter: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  /** undici is done with the request: its answer ended or it failed. */
  private finished = false;
  private ended = false;
  private released = false;
  /** Writes of the payload to a socket not completed yet (see detach). */
  private writesPending = 0;
  /** The payload, while it is in payloadOwners. */
  payload: Buffer | undefined;
  private readonly timer: NodeJS.Timeout;
  private bodyTimer: NodeJS.Timeout | undefined;
  private readonly unwatch: () => void;
  private readonly resolve: (response: TransportResponse) => void;
  private readonly reject: (error: TransportError) => void;
  private readonly onReleased: (() => void) | undefined;
  private readonly onWritten: (() => void) | undefined;
  private readonly forget: () => void;

  /**
   * The timer bounds the whole exchange; after a status is known it only cleans up a body that
   * never ends. A request somebody waits for holds the process through it, also while it waits
   * for a connection.
   */
  constructor(resolve: (response: TransportResponse) => void, reject: (error: TransportError) => void, options: SendOptions, forget: () => void) {
    this.resolve = resolve;
    this.reject = reject;
    this.onReleased = options.onReleased;
    this.onWritten = options.onWritten;
    this.forget = forget;
    const { timeoutMs, signal } = options;
    this.timer = setTimeout(() => this.abandon(new TransportError('ETIMEDOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
    if (options.keepProcessAlive === false) this.timer.unref();
    const onAbort = () => this.abandon(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    this.unwatch = () => signal.removeEventListener('abort', onAbort);
  }

  /** Ends the exchange early (timeout, shutdown): settles it if still open, and drops its connection. */
  abandon(error: TransportError): void {
    this.abandonedWith ??= error;
    // After an error status, the answer is what came of it, unless the exporter is shutting down.
    if (this.status !== 0 && error.code !== 'ABORT_ERR') this.settleWithAnswer();
    else this.settle(error);
    if (!this.finished) this.controller?.abort(error);
    this.end();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abandonedWith !== undefined) controller.abort(this.abandonedWith);
    else this.onWritten?.();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // informational (103 Early Hints, …): the final answer follows
    this.status = statusCode;
    const retryAfter = headers['retry-after'];
    this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    if (statusCode < 300) {
      this.settleWithAnswer();
      return;
    }
    // Error answers: keep the start of the body for the diagnostic, but never wait long for it.
    this.bodyTimer = setTimeout(() => this.settleWithAnswer(), ERROR_BODY_WAIT_MS);
    this.bodyTimer.unref();
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled || this.size >= MAX_ERROR_BODY) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.finished = true;
    this.settleWithAnswer();
    this.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.finished = true;
    if (this.abandonedWith !== undefined) this.settle(this.abandonedWith);
    else if (this.status !== 0) this.settleWithAnswer(); // the connection failed after an error status: that status stands
    else this.settle(transportError(error));
    this.end();
  }

  /** Settles with the answer as it stands (its head has arrived). */
  private settleWithAnswer(): void {
    clearTimeout(this.bodyTimer);
    if (this.settled || this.status === 0) return;
    const body = this.status < 300 ? '' : Buffer.concat(this.chunks).toString('utf8').slice(0, MAX_ERROR_BODY);
    this.settle({ status: this.status, retryAfter: this.retryAfter, body });
  }

  private settle(outcome: TransportResponse | TransportError): void {
    if (this.settled) return;
    this.settled = true;
    // Nobody waits any more: the timer now only bounds a body that never ends.
    this.timer.unref();
    if (outcome instanceof TransportError) this.reject(outcome);
    else this.resolve(outcome);
  }

  writeStarted(): void {
    this.writesPending++;
  }

  writeEnded(): void {
    this.writesPending--;
    this.release();
  }

  /**
   * Once undici is done with the request, or it was given up on (aborting it destroyed its socket;
   * one not started yet is aborted before it is written): no timer, no listener; the payload is
   * released once no socket writes it any more.
   */
  private end(): void {
    if (this.ended || (!this.finished && this.abandonedWith === undefined)) return;
    this.ended = true;
    clearTimeout(this.timer);
    clearTimeout(this.bodyTimer);
    this.unwatch();
    this.forget();
    this.release();
  }

  private release(): void {
    if (!this.ended || this.released || this.writesPending > 0) return;
    this.released = true;
    if (this.payload !== undefined && payloadOwners.get(this.payload) === this) payloadOwners.delete(this.payload);
    this.payload = undefined;
    this.onReleased?.();
  }
}

/** A failure from undici or Node as a TransportError, with the codes verdict.ts decides on. */
function transportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const message = errorMessage(error);
  // A proxy's refusal comes as undici's generic errors; its status is only in the message.
  const proxyStatus = /Proxy response \((\d{3})\)|Proxy Authentication Required \((407)\)/.exec(message);
  if (proxyStatus !== null) {
    const status = proxyStatus[1] ?? proxyStatus[2];
    return new TransportError(status === '407' ? PROXY_AUTH_REQUIRED : 'ERR_PROXY_TUNNEL', `the proxy answered HTTP ${status}`);
  }
  // A TLS failure behind a proxy comes wrapped (SecureProxyConnectionError): its cause says what failed.
  const own = errorCode(error);
  const cause = (error as { cause?: unknown } | null)?.cause;
  const code = own === undefined || own === 'UND_ERR_PRX_TLS' ? (errorCode(cause) ?? own ?? unnamed(error)) : own;
  return new TransportError(code, message);
}

/** A code for an error that brings none: undici's parser errors often come without one. */
function unnamed(error: unknown): string {
  return (error as { name?: unknown } | null)?.name === 'HTTPParserError' ? 'HPE_INVALID_RESPONSE' : 'ERR_UNKNOWN';
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Every address refused: Node's AggregateError has an empty message of its own.
  if (error.message === '' && error instanceof AggregateError) return error.errors.map(errorMessage).join('; ');
  return error.message;
}

function abortError(): TransportError {
  return new TransportError('ABORT_ERR', 'request aborted: exporter is shutting down');
}
