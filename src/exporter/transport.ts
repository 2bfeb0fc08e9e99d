import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { callUntracedSynchronously } from '../globals/untraced.ts';
import { PACKAGE_VERSION } from '../version.ts';
import { payloadWrites, routeTo, TransportError, type PayloadWrites, type Route } from './connections.ts';
import { PROXY_AUTH_REQUIRED } from './verdict.ts';

export { TransportError } from './connections.ts';

/** node:zlib, loaded for the first compressed body (the default sends none). */
const zlib = () => process.getBuiltinModule('node:zlib');
let gzipAsync: ((body: Buffer) => Promise<Buffer>) | undefined;

/** Bytes of an error answer kept for diagnostics. */
const MAX_ERROR_BODY = 4096;
/** How long to wait for the body of an error answer once its status is known. */
const ERROR_BODY_WAIT_MS = 1_000;

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

/**
 * POSTs request bodies to the drain URL through node:http: a keep-alive agent for the endpoint
 * (the server's `Keep-Alive: timeout` hint honoured, connections the server closed while idle
 * dropped), directly or through an HTTP(S) proxy (connections.ts). Knows HTTP, not Astralog: it
 * reports what happened and leaves deciding what that means to the exporter (verdict.ts).
 *
 * Sockets never hold the process open on their own: a request somebody waits for holds it through
 * its timer (send's keepProcessAlive), for at most its timeout.
 */
export class HttpTransport {
  private readonly url: URL;
  private readonly proxy: string | undefined;
  private readonly ca: TransportConfig['ca'];
  private readonly headers: Record<string, string>;
  /** Made at the first request (an https endpoint loads node:https then). */
  private route: Route | undefined;
  private readonly compression: 'none' | 'gzip';
  private readonly exchanges = new Set<Exchange>();
  /** Signals listened to: one listener each, for every request made with it. */
  private readonly signals = new WeakSet<AbortSignal>();
  private destroyed = false;

  constructor(config: TransportConfig) {
    this.compression = config.compression;
    this.url = new URL(config.url);
    this.proxy = config.proxy;
    this.ca = config.ca;
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
    if (this.compression !== 'gzip') return json;
    gzipAsync ??= promisify(zlib().gzip);
    return gzipAsync(json);
  }

  /** The same, synchronously (for a last delivery from a worker thread). */
  encodeBodySync(json: Buffer): Buffer {
    return this.compression === 'gzip' ? zlib().gzipSync(json) : json;
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
      const route = (this.route ??= routeTo(this.url, this.proxy, this.ca, this.headers));
      this.watch(options.signal);
      const exchange = new Exchange(resolve, reject, options, route, this.exchanges);
      this.exchanges.add(exchange);
      exchange.watch(payload);
      try {
        const outgoing = callUntracedSynchronously(route.request, route, payload.length);
        exchange.start(outgoing);
        outgoing.end(payload);
      } catch (error) {
        exchange.abandon(transportError(error));
      }
    });
  }

  /** Aborting `signal` gives up on every request made with it. */
  private watch(signal: AbortSignal): void {
    if (this.signals.has(signal)) return;
    this.signals.add(signal);
    signal.addEventListener(
      'abort',
      () => {
        for (const exchange of this.exchanges) if (exchange.signal === signal) exchange.abandon(abortError());
      },
      { once: true },
    );
  }

  /** Closes every socket, idle or busy; requests under way fail as aborted, later ones at once. */
  destroy(): void {
    this.destroyed = true;
    for (const exchange of this.exchanges) exchange.abandon(abortError());
    this.route?.destroy();
  }
}

/**
 * One request and its answer. Settles once: a 2xx as soon as its status is known, an error answer
 * with the start of its body (or what came of it within ERROR_BODY_WAIT_MS), or a TransportError.
 */
class Exchange implements PayloadWrites {
  private request: ClientRequest | undefined;
  /** Why we gave up on the request, if we did. */
  private abandonedWith: TransportError | undefined;
  /** The final status, once its head has arrived (1xx answers aside). */
  private status = 0;
  private retryAfter: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  /** node:http is done with the request: it closed. */
  private finished = false;
  private ended = false;
  private released = false;
  private written = false;
  /** Writes of the payload to a socket not completed yet (see connections.ts). */
  private writesPending = 0;
  /** The payload, while it is in payloadWrites. */
  private payload: Buffer | undefined;
  private readonly timer: NodeJS.Timeout;
  private bodyTimer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal;
  private readonly resolve: (response: TransportResponse) => void;
  private readonly reject: (error: TransportError) => void;
  private readonly onReleased: (() => void) | undefined;
  private readonly onWritten: (() => void) | undefined;
  /** Whether a 407 is the forwarding proxy refusing its credentials; where a request given up on waits. */
  private readonly route: Route;
  /** The transport's exchanges under way: this one leaves it when it ends. */
  private readonly registry: Set<Exchange>;

  /**
   * The timer bounds the whole exchange; after a status is known it only cleans up a body that
   * never ends. A request somebody waits for holds the process through it, also while it waits
   * for a connection.
   */
  constructor(resolve: (response: TransportResponse) => void, reject: (error: TransportError) => void, options: SendOptions, route: Route, registry: Set<Exchange>) {
    this.resolve = resolve;
    this.reject = reject;
    this.onReleased = options.onReleased;
    this.onWritten = options.onWritten;
    this.route = route;
    this.registry = registry;
    this.signal = options.signal;
    const { timeoutMs } = options;
    this.timer = setTimeout(() => this.abandon(new TransportError('ETIMEDOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
    if (options.keepProcessAlive === false) this.timer.unref();
  }

  /** Tracks the payload's writes until the exchange is released. */
  watch(payload: Buffer): void {
    this.payload = payload;
    payloadWrites.set(payload, this);
  }

  start(request: ClientRequest): void {
    this.request = request;
    request.on('response', (response: IncomingMessage) => this.onResponse(response));
    request.on('error', (error: Error) => this.onError(error));
    // A 101 Switching Protocols: not an answer to a POST of ours (Node gives the socket to an
    // 'upgrade' listener, or closes it).
    request.on('upgrade', (_response: IncomingMessage, socket: Duplex) => {
      socket.destroy();
      this.settle(new TransportError('ERR_UNEXPECTED_UPGRADE', 'the server answered 101 Switching Protocols'));
    });
    request.on('close', () => {
      this.finished = true;
      // Closed with neither a final answer nor an error: none can come any more.
      if (this.status !== 0) this.settleWithAnswer();
      else this.settle(this.abandonedWith ?? new TransportError('ECONNRESET', 'the connection closed without an answer'));
      this.end();
    });
  }

  /** Ends the exchange early (timeout, shutdown): settles it if still open, and drops its connection. */
  abandon(error: TransportError): void {
    this.abandonedWith ??= error;
    // After an error status, the answer is what came of it, unless the exporter is shutting down.
    if (this.status !== 0 && error.code !== 'ABORT_ERR') this.settleWithAnswer();
    else this.settle(error);
    if (!this.finished && this.request !== undefined) {
      if (this.request.socket === null) this.route.unqueue(this.request);
      this.request.destroy(error);
    }
    this.end();
  }

  private onResponse(response: IncomingMessage): void {
    const status = response.statusCode ?? 0;
    response.on('error', () => undefined); // a connection lost during the body: 'close' follows
    if (this.route.forwarded && status === 407) {
      response.resume();
      this.settle(new TransportError(PROXY_AUTH_REQUIRED, 'the proxy answered HTTP 407'));
      return;
    }
    this.status = status;
    const retryAfter = response.headers['retry-after'];
    this.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
    if (status < 300) {
      response.resume();
      this.settleWithAnswer();
      return;
    }
    // Error answers: keep the start of the body for the diagnostic, but never wait long for it.
    response.on('data', (chunk: Buffer) => {
      if (this.settled || this.size >= MAX_ERROR_BODY) return;
      this.chunks.push(chunk);
      this.size += chunk.length;
    });
    response.on('end', () => this.settleWithAnswer());
    this.bodyTimer = setTimeout(() => this.settleWithAnswer(), ERROR_BODY_WAIT_MS);
    this.bodyTimer.unref();
  }

  private onError(error: Error): void {
    if (this.abandonedWith !== undefined) this.settle(this.abandonedWith);
    else if (this.status !== 0) this.settleWithAnswer(); // the connection failed after an error status: that status stands
    else this.settle(transportError(error));
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

  onConnection(): void {
    if (this.written) return;
    this.written = true;
    if (this.abandonedWith === undefined) this.onWritten?.();
  }

  writeStarted(): void {
    this.writesPending++;
  }

  writeEnded(): void {
    this.writesPending--;
    this.release();
  }

  /**
   * Once node:http is done with the request, or it was given up on (destroying it destroyed its
   * socket, or it never got one): no timer, no listener; the payload is released once no socket
   * writes it any more.
   */
  private end(): void {
    if (this.ended || (!this.finished && this.abandonedWith === undefined)) return;
    this.ended = true;
    clearTimeout(this.timer);
    clearTimeout(this.bodyTimer);
    this.registry.delete(this);
    this.release();
  }

  private release(): void {
    if (!this.ended || this.released || this.writesPending > 0) return;
    this.released = true;
    if (this.payload !== undefined && payloadWrites.get(this.payload) === this) payloadWrites.delete(this.payload);
    this.payload = undefined;
    this.onReleased?.();
  }
}

/** A failure from Node as a TransportError, with the codes verdict.ts decides on. */
function transportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  return new TransportError(errorCode(error) ?? 'ERR_UNKNOWN', errorMessage(error));
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
