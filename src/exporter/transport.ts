import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { PACKAGE_VERSION } from '../version.ts';
import { ResponseParser, type ResponseHead } from './http-response.ts';

const gzipAsync = promisify(gzip);

/** Bytes of an error answer kept for diagnostics. */
const MAX_ERROR_BODY = 4096;
/** How long to wait for the body of an error answer once its status is known. */
const ERROR_BODY_WAIT_MS = 1_000;
/** Sockets open at once, idle and busy; more requests wait for one to free up. */
const MAX_SOCKETS = 32;
/** Idle sockets close before common server idle timeouts (5 s), so a dying one is not reused. */
const IDLE_TIMEOUT_MS = 4_000;

export const USER_AGENT = `astralog-otel-js/${PACKAGE_VERSION} node/${process.version}`;

export interface TransportConfig {
  url: URL;
  apiKey: string;
  headers: Record<string, string>;
  compression: 'none' | 'gzip';
  ca: string | Buffer | Array<string | Buffer> | undefined;
}

export interface TransportResponse {
  status: number;
  retryAfter: string | undefined;
  /** The start of the answer's body (error answers only), for diagnostics. */
  body: string;
}

/** A failure below HTTP: the request produced no status. `code` is Node's (ECONNRESET, …) or ours. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * POSTs request bodies to the drain URL over keep-alive HTTP/1.1 connections. Knows HTTP, not
 * Astralog: it reports what happened and leaves deciding what that means to the exporter.
 *
 * Each request is one prepared head plus the body, written together; the answer is read by a
 * small parser (http-response.ts). An exporter needs no more of HTTP than status, Retry-After and
 * framing, and http.request spends about 1.5 times the CPU per 100 KB request (bench/RESULTS.md,
 * "HTTP requests").
 * Idle sockets are unref'd, so they never keep the process alive.
 */
export class HttpTransport {
  private readonly headers: Record<string, string>;
  /** The request head up to the Content-Length value, encoded once. */
  private readonly headPrefix: Buffer;
  private readonly compression: 'none' | 'gzip';
  private readonly secure: boolean;
  private readonly connectOptions: net.TcpNetConnectOpts & tls.ConnectionOptions;
  private readonly open = new Set<Connection>();
  /** Free keep-alive connections, the most recently used last. */
  private readonly idle: Connection[] = [];
  /** Requests waiting for a connection while MAX_SOCKETS are busy. */
  private readonly waiting: Exchange[] = [];
  /** The last TLS session, to resume rather than redo the handshake on the next connection. */
  private tlsSession: Buffer | undefined;
  private destroyed = false;

  constructor(config: TransportConfig) {
    this.compression = config.compression;
    this.headers = {
      ...config.headers,
      'user-agent': config.headers['user-agent'] ?? USER_AGENT,
      'content-type': 'application/json',
      authorization: `Bearer ${config.apiKey}`,
      ...(config.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
    const url = config.url;
    let head = `POST ${url.pathname || '/'}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [name, value] of Object.entries(this.headers)) {
      // The options were validated; a line break here would desynchronise the connection, so check anyway.
      if (/[^\t\x20-\x7e\x80-\xff]/.test(name + value)) throw new TypeError(`header '${name}' is not printable Latin-1`);
      head += `${name}: ${value}\r\n`;
    }
    this.headPrefix = Buffer.from(`${head}content-length: `, 'latin1');
    this.secure = url.protocol === 'https:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.connectOptions = {
      host,
      port: Number(url.port || (this.secure ? 443 : 80)),
      ...(this.secure ? { ALPNProtocols: ['http/1.1'], ...(net.isIP(host) === 0 ? { servername: host } : {}) } : {}),
      ...(this.secure && config.ca !== undefined ? { ca: config.ca } : {}),
    };
  }

  /** The headers every request carries, Content-Length aside. */
  requestHeaders(): Record<string, string> {
    return { ...this.headers };
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
   * With keepProcessAlive false, the socket does not keep the process running.
   * Once the promise settles, no socket still reads from `payload` (a request not fully written by
   * then loses its connection), so the caller may reuse that memory.
   */
  send(payload: Buffer, timeoutMs: number, signal: AbortSignal, keepProcessAlive = true): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      if (signal.aborted || this.destroyed) {
        reject(abortError());
        return;
      }
      const exchange = new Exchange(payload, keepProcessAlive, resolve, reject);
      const onAbort = () => this.abandon(exchange, abortError());
      // Bounds the whole exchange; after a status is known it only cleans up a body that never ends.
      // A request someone waits for holds the process through its timer too, also while it waits for a socket.
      const timer = setTimeout(() => this.abandon(exchange, new TransportError('ETIMEDOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
      if (!keepProcessAlive) timer.unref();
      signal.addEventListener('abort', onAbort, { once: true });
      exchange.cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      this.dispatch(exchange);
    });
  }

  /** Closes every socket, idle or busy; requests under way fail as aborted, later ones at once. */
  destroy(): void {
    this.destroyed = true;
    for (const exchange of this.waiting.splice(0)) exchange.fail(abortError());
    for (const connection of this.open) connection.abort(abortError());
  }

  /** Ends an exchange early (timeout, shutdown): settles it if still open, and drops its connection. */
  private abandon(exchange: Exchange, error: TransportError): void {
    const waitingAt = this.waiting.indexOf(exchange);
    if (waitingAt !== -1) this.waiting.splice(waitingAt, 1);
    if (exchange.connection === undefined) exchange.fail(error);
    else exchange.connection.abort(error);
  }

  /** Starts an exchange on an idle or new connection, or queues it while MAX_SOCKETS are busy. */
  private dispatch(exchange: Exchange): void {
    let connection: Connection | undefined;
    try {
      connection = this.takeIdle() ?? (this.open.size < MAX_SOCKETS ? this.connect() : undefined);
    } catch (error) {
      // tls.connect throws at once on options it cannot use (an unreadable ca, say).
      exchange.fail(new TransportError(errorCode(error, 'ERR_CONNECT'), errorMessage(error)));
      return;
    }
    if (connection === undefined) this.waiting.push(exchange);
    else connection.start(exchange);
  }

  private takeIdle(): Connection | undefined {
    for (let connection = this.idle.pop(); connection !== undefined; connection = this.idle.pop()) {
      if (connection.usable()) return connection;
      connection.socket.destroy();
    }
    return undefined;
  }

  private connect(): Connection {
    let socket: net.Socket;
    if (this.secure) {
      const resumed = this.tlsSession;
      const tlsSocket = tls.connect(resumed === undefined ? this.connectOptions : { ...this.connectOptions, session: resumed });
      tlsSocket.on('session', (session: Buffer) => {
        this.tlsSession = session;
      });
      // A session the server no longer takes must not spoil every later handshake (as https.Agent does).
      tlsSocket.on('error', () => {
        if (this.tlsSession === resumed) this.tlsSession = undefined;
      });
      socket = tlsSocket;
    } else {
      socket = net.connect(this.connectOptions);
    }
    socket.setNoDelay(true);
    const connection = new Connection(socket, this.headPrefix, this.release, this.forget);
    this.open.add(connection);
    return connection;
  }

  /** A connection finished an exchange and can carry another. */
  private readonly release = (connection: Connection): void => {
    const next = this.waiting.shift();
    if (next !== undefined) return connection.start(next);
    connection.idle();
    this.idle.push(connection);
  };

  /** A connection closed: forget it, and give a waiting request a fresh one. */
  private readonly forget = (connection: Connection): void => {
    this.open.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at !== -1) this.idle.splice(at, 1);
    const next = this.waiting.shift();
    if (next !== undefined) this.dispatch(next);
  };
}

/**
 * One request and its answer. Settles once: a 2xx as soon as its status is known, an error answer
 * with the start of its body (or what came of it within ERROR_BODY_WAIT_MS), or a TransportError.
 */
class Exchange {
  connection: Connection | undefined;
  /** Stops the exchange's timer and abort listener; called once the answer has ended or failed. */
  cleanup: () => void = () => undefined;
  private settled = false;
  /** The answer's head, once it has arrived. */
  private head: ResponseHead | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private bodyTimer: NodeJS.Timeout | undefined;
  readonly payload: Buffer;
  readonly keepProcessAlive: boolean;
  private readonly resolve: (response: TransportResponse) => void;
  private readonly reject: (error: TransportError) => void;

  constructor(
    payload: Buffer,
    keepProcessAlive: boolean,
    resolve: (response: TransportResponse) => void,
    reject: (error: TransportError) => void,
  ) {
    this.payload = payload;
    this.keepProcessAlive = keepProcessAlive;
    this.resolve = resolve;
    this.reject = reject;
  }

  onHead(head: ResponseHead): void {
    this.head = head;
    if (this.isSuccess()) {
      this.settle({ status: head.status, retryAfter: head.retryAfter, body: '' });
      return;
    }
    // Error answers: keep the start of the body for the diagnostic, but never wait long for it.
    this.bodyTimer = setTimeout(() => this.settleWithBody(), ERROR_BODY_WAIT_MS);
    this.bodyTimer.unref();
  }

  onBody(chunk: Buffer): void {
    if (this.isSuccess() || this.size >= MAX_ERROR_BODY) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The whole answer arrived. */
  onComplete(): void {
    this.settleWithBody();
    this.cleanup();
  }

  /**
   * The exchange failed: before a status, that is the outcome; after an error status, the answer is
   * what came of it, unless the exchange was aborted (the exporter is shutting down).
   */
  fail(error: TransportError): void {
    if (this.head !== undefined && error.code !== 'ABORT_ERR') this.settleWithBody();
    else this.settle(error);
    this.cleanup();
  }

  private isSuccess(): boolean {
    const status = this.head?.status ?? 0;
    return status >= 200 && status < 300;
  }

  /** Settles with the answer as it stands (the head has arrived). */
  private settleWithBody(): void {
    clearTimeout(this.bodyTimer);
    const head = this.head;
    if (this.settled || head === undefined) return;
    this.settle({ status: head.status, retryAfter: head.retryAfter, body: Buffer.concat(this.chunks).toString('utf8').slice(0, MAX_ERROR_BODY) });
  }

  private settle(outcome: TransportResponse | TransportError): void {
    if (this.settled) return;
    this.settled = true;
    this.connection?.dropUnwritten();
    if (outcome instanceof TransportError) this.reject(outcome);
    else this.resolve(outcome);
  }
}

/** A keep-alive connection carrying one exchange at a time. */
class Connection {
  private exchange: Exchange | undefined;
  private parser: ResponseParser | undefined;
  readonly socket: net.Socket;
  /** The request head up to the Content-Length value: the same for every request of a transport. */
  private readonly headPrefix: Buffer;
  private readonly release: (connection: Connection) => void;
  private readonly forget: (connection: Connection) => void;

  constructor(socket: net.Socket, headPrefix: Buffer, release: (connection: Connection) => void, forget: (connection: Connection) => void) {
    this.socket = socket;
    this.headPrefix = headPrefix;
    this.release = release;
    this.forget = forget;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => this.failExchange(new TransportError(errorCode(error, 'ECONNRESET'), errorMessage(error))));
    socket.on('close', () => {
      this.failExchange(new TransportError('ECONNRESET', 'connection closed before the answer'));
      this.forget(this);
    });
    // Set while idle only: an idle connection past IDLE_TIMEOUT_MS is closed.
    socket.on('timeout', () => socket.destroy());
  }

  usable(): boolean {
    return !this.socket.destroyed && this.socket.writable && this.socket.readable;
  }

  start(exchange: Exchange): void {
    this.exchange = exchange;
    exchange.connection = this;
    this.parser = new ResponseParser(
      (head) => exchange.onHead(head),
      (chunk) => exchange.onBody(chunk),
    );
    const socket = this.socket;
    socket.setTimeout(0);
    // A background export must not hold the process open; whoever waits for a flush holds it instead.
    // Set again once connected: each address tried while connecting gets a handle of its own.
    const hold = () => {
      if (this.exchange !== exchange) return;
      if (exchange.keepProcessAlive) socket.ref();
      else socket.unref();
    };
    hold();
    if (socket.connecting) socket.once('connect', hold);
    socket.cork();
    socket.write(this.headPrefix);
    socket.write(`${exchange.payload.length}\r\n\r\n`, 'latin1');
    socket.write(exchange.payload);
    socket.uncork();
  }

  /** An answer came before the whole request was written: stop writing it (the caller may reuse the payload). */
  dropUnwritten(): void {
    if (this.socket.writableLength > 0) this.socket.destroy();
  }

  /** Fails the exchange under way with `error` and closes the connection. */
  abort(error: TransportError): void {
    this.failExchange(error);
    this.socket.destroy();
  }

  idle(): void {
    this.socket.unref();
    this.socket.setTimeout(IDLE_TIMEOUT_MS);
  }

  private onData(chunk: Buffer): void {
    const parser = this.parser;
    if (parser === undefined) {
      this.socket.destroy(); // bytes nobody asked for: the connection is out of step
      return;
    }
    try {
      parser.feed(chunk);
    } catch (error) {
      this.failExchange(new TransportError('HPE_INVALID_RESPONSE', `malformed HTTP answer: ${errorMessage(error)}`));
      this.socket.destroy();
      return;
    }
    this.afterParse(parser);
  }

  private onEnd(): void {
    const parser = this.parser;
    try {
      parser?.end();
      if (parser !== undefined) this.afterParse(parser);
    } catch (error) {
      this.failExchange(new TransportError('ECONNRESET', errorMessage(error)));
    }
    this.socket.destroy();
  }

  /** Once a chunk is parsed whole (never in the middle of it), a complete answer frees the connection. */
  private afterParse(parser: ResponseParser): void {
    if (!parser.complete || parser !== this.parser) return;
    const exchange = this.exchange;
    this.exchange = undefined;
    this.parser = undefined;
    exchange?.onComplete();
    // Reused only when the server said so. (An answer before our whole request was written has
    // already dropped the connection when it settled: see dropUnwritten.)
    if (parser.head?.reusable === true && this.usable()) this.release(this);
    else this.socket.destroy();
  }

  private failExchange(error: TransportError): void {
    const exchange = this.exchange;
    if (exchange === undefined) return;
    this.exchange = undefined;
    this.parser = undefined;
    exchange.fail(error);
  }
}

function errorCode(error: unknown, fallback: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : fallback;
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
