/**
 * A real HTTP server on 127.0.0.1 that speaks the Astralog ingest contract
 * (see /work/shared/astralog-ingest-api.md) and can misbehave on demand.
 *
 * - `POST /v1/drain`: authenticated, validated, then answered as the behaviour function decides.
 * - `GET /health`: 200 `{"status":"ok"}`.
 * - anything else: 404.
 *
 * Timing guarantees that tests can rely on:
 * - a request is in `requests` (with its final `status`) before its answer is written, and
 *   before the socket is reset for `reset` / `resetMidBody`;
 * - the events of a 2xx answer are in `accepted` before the answer is written, so once a client has
 *   seen the 2xx, `accepted` already holds the events;
 * - for `delay` and `drip`, the events are committed to `accepted` when the 2xx status line is due
 *   (after the delay; at once for drip), even if the client hung up meanwhile: a real server would
 *   have queued them too, which is how a client timeout + retry shows up as duplicates.
 */
import { listenOnLoopback } from './listen.ts';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { checkHeaders, decodeBody, isPlainObject, parseEvents } from '../../src/receiver/contract.ts';

export type Behaviour =
  /** 202 `{"status":"accepted"}` by default; `status` may be any 2xx (some builds answer 200). */
  | { kind: 'accept'; status?: number }
  /**
   * Answer with this status; the events are NOT accepted (even for a 2xx status).
   * Default body: `{"error":"server saturated","code":"backpressure_test"}` for 429,
   * `{"error":"<reason phrase>"}` otherwise. Default Content-Type: application/json (headers override).
   */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Read the whole request, then reset the socket (TCP RST) without answering. */
  | { kind: 'reset' }
  /**
   * Reset the socket as soon as the first chunk of the body arrives.
   * Truly mid-body only when it comes from `sequence()` or `everyNth()` (they depend on the index
   * only, so the receiver can ask them before the body arrives). A custom behaviour function is
   * consulted once the whole body is in; `resetMidBody` from it then acts like `reset`.
   */
  | { kind: 'resetMidBody' }
  /** Read everything, never answer; the socket stays open until the client or `close()` ends it. */
  | { kind: 'blackhole' }
  /**
   * Write `bytes` (default: a line that is not HTTP) as the whole answer, straight to the socket,
   * then close it, as a broken proxy or WAF might. The events are NOT accepted.
   */
  | { kind: 'malformed'; bytes?: string }
  /** Wait `ms`, then behave as `then`. */
  | { kind: 'delay'; ms: number; then: Behaviour }
  /**
   * Send the status line and headers of `then` at once, then its body one byte every `ms`.
   * Only meaningful when `then` is `accept` or `status`; other kinds are performed as is.
   */
  | { kind: 'drip'; ms: number; then: Behaviour };

export interface ReceivedRequest {
  /** 0-based arrival order (order in which the request headers arrived). */
  index: number;
  method: string;
  /** Includes the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  /** As received on the wire (maybe gzip). */
  rawBody: Buffer;
  /** Decoded (gunzipped when Content-Encoding: gzip), utf8; '' when the body could not be decoded. */
  bodyText: string;
  /** Parsed body, or undefined when not valid JSON. */
  json: unknown;
  /** `json.events` when it is an array, else []. */
  events: unknown[];
  /**
   * What the receiver answered. 'reset' also covers a connection that ended before the body was
   * complete (the client went away mid-upload).
   */
  status: number | 'reset' | 'blackhole' | 'malformed';
  /** Date.now() when the body finished arriving. */
  receivedAt: number;
}

type BehaviourFn = (req: ReceivedRequest, index: number) => Behaviour;

export interface ReceiverOptions {
  /** Default 'test-key'; requests without `Authorization: Bearer <apiKey>` get 401 `{"error":"unauthorized"}`. */
  apiKey?: string;
  /** Decides each `POST /v1/drain` answer after auth and body validation pass; default: accept. */
  behaviour?: BehaviourFn;
  /**
   * Default true. When false, none of the contract checks run (not even the Authorization check):
   * every POST /v1/drain goes straight to the behaviour function.
   */
  validate?: boolean;
}

export interface Receiver {
  /** 'http://127.0.0.1:<port>' (base, no path). */
  url: string;
  port: number;
  /** Every request to POST /v1/drain, in arrival order, whatever the answer. */
  requests: ReceivedRequest[];
  /** Every event of every request answered 2xx (by an `accept` behaviour), in order, duplicates included. */
  accepted: unknown[];
  setBehaviour(fn: BehaviourFn): void;
  setApiKey(key: string): void;
  /** Resolves when accepted.length >= n; rejects with a descriptive error after timeoutMs (default 5000). */
  waitForEvents(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when requests.length >= n; rejects with a descriptive error after timeoutMs (default 5000). */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** Sockets currently open to the server. */
  openConnections(): number;
  /** Connections accepted so far, closed ones included. */
  connectionsAccepted(): number;
  /** Destroys every socket (black-holed ones included), cancels pending delays, closes. Idempotent. */
  close(): Promise<void>;
}

const ACCEPT: Behaviour = { kind: 'accept' };

/** Behaviour functions that depend on the index only: safe to consult before the body arrives. */
const indexOnly = new WeakSet<BehaviourFn>();

/** The i-th request gets list[i]; afterwards, accept. */
export function sequence(...list: Behaviour[]): BehaviourFn {
  const fn: BehaviourFn = (_req, index) => list[index] ?? ACCEPT;
  indexOnly.add(fn);
  return fn;
}

/** Requests with (index + 1) % n === 0 get b, the rest accept. */
export function everyNth(n: number, b: Behaviour): BehaviourFn {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`everyNth: n must be a positive integer, got ${n}`);
  const fn: BehaviourFn = (_req, index) => ((index + 1) % n === 0 ? b : ACCEPT);
  indexOnly.add(fn);
  return fn;
}

interface Waiter {
  done(): boolean;
  resolve(): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const noop = (): void => {};

function buildRecord(
  index: number,
  req: IncomingMessage,
  raw: Buffer,
): { rec: ReceivedRequest; decodeError: string | undefined } {
  const decoded = decodeBody(req.headers, raw);
  const bodyText = 'text' in decoded ? decoded.text : '';
  let json: unknown = undefined;
  if ('text' in decoded) {
    try {
      json = JSON.parse(bodyText) as unknown;
    } catch {
      json = undefined;
    }
  }
  const events = isPlainObject(json) && Array.isArray(json['events']) ? (json['events'] as unknown[]) : [];
  const rec: ReceivedRequest = {
    index,
    method: req.method ?? '',
    path: req.url ?? '',
    headers: req.headers,
    rawBody: raw,
    bodyText,
    json,
    events,
    status: 'reset',
    receivedAt: Date.now(),
  };
  return { rec, decodeError: 'error' in decoded ? decoded.error : undefined };
}

function checkBody(rec: ReceivedRequest, decodeError: string | undefined): string | undefined {
  if (decodeError !== undefined) return decodeError;
  const parsed = parseEvents(rec.bodyText);
  return 'error' in parsed ? parsed.error : undefined;
}

/** Throws on a behaviour the receiver cannot perform (a bug in the test). */
function checkBehaviour(b: unknown, path = 'behaviour'): asserts b is Behaviour {
  if (!isPlainObject(b)) throw new TypeError(`${path} must be an object, got ${JSON.stringify(b)}`);
  switch (b['kind']) {
    case 'accept': {
      const s = b['status'];
      if (s !== undefined && !(Number.isInteger(s) && (s as number) >= 200 && (s as number) <= 299)) {
        throw new TypeError(`${path}: accept status must be a 2xx, got ${String(s)}`);
      }
      return;
    }
    case 'status': {
      const s = b['status'];
      if (!(Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599)) {
        throw new TypeError(`${path}: status must be an integer in 100..599, got ${String(s)}`);
      }
      return;
    }
    case 'reset':
    case 'resetMidBody':
    case 'blackhole':
      return;
    case 'malformed':
      if (b['bytes'] !== undefined && typeof b['bytes'] !== 'string') throw new TypeError(`${path}: malformed bytes must be a string`);
      return;
    case 'delay':
    case 'drip': {
      const ms = b['ms'];
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new TypeError(`${path}: ${String(b['kind'])} ms must be a finite number >= 0, got ${String(ms)}`);
      }
      checkBehaviour(b['then'], `${path}.then`);
      return;
    }
    default:
      throw new TypeError(`${path}: unknown kind ${JSON.stringify(b['kind'])}`);
  }
}

/** The status the receiver ends up answering for this behaviour. */
function outcomeOf(b: Behaviour): ReceivedRequest['status'] {
  switch (b.kind) {
    case 'accept':
      return b.status ?? 202;
    case 'status':
      return b.status;
    case 'reset':
    case 'resetMidBody':
      return 'reset';
    case 'blackhole':
      return 'blackhole';
    case 'malformed':
      return 'malformed';
    case 'delay':
    case 'drip':
      return outcomeOf(b.then);
  }
}

function defaultErrorBody(status: number): string {
  if (status === 429) return JSON.stringify({ error: 'server saturated', code: 'backpressure_test' });
  return JSON.stringify({ error: STATUS_CODES[status] ?? 'error' });
}

export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy(); // TCP RST: ECONNRESET at the client, not a polite FIN
  } catch {
    socket.destroy();
  }
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  let apiKey = options.apiKey ?? 'test-key';
  let behaviourFn: BehaviourFn = options.behaviour ?? (() => ACCEPT);
  const validate = options.validate !== false;

  const requests: ReceivedRequest[] = [];
  const accepted: unknown[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const waiters = new Set<Waiter>();
  let nextIndex = 0;
  let closed = false;
  let closing: Promise<void> | undefined;
  let onSocketsDrained: (() => void) | undefined;

  function notify(): void {
    for (const w of waiters) {
      if (w.done()) {
        clearTimeout(w.timer);
        waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** Inserts in index order (requests may complete out of order when concurrent). */
  function record(rec: ReceivedRequest): void {
    let at = requests.length;
    while (at > 0 && (requests[at - 1] as ReceivedRequest).index > rec.index) at--;
    requests.splice(at, 0, rec);
    notify();
  }

  function commit(rec: ReceivedRequest): void {
    if (closed) return;
    accepted.push(...rec.events);
    notify();
  }

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers.delete(t);
      if (closed) return;
      try {
        fn();
      } catch (err) {
        console.error('[receiver] error in delayed action:', err);
      }
    }, ms);
    timers.add(t);
  }

  function perform(b: Behaviour, rec: ReceivedRequest, res: ServerResponse, socket: Socket): void {
    if (closed) return;
    switch (b.kind) {
      case 'accept':
        commit(rec);
        sendJson(res, b.status ?? 202, { status: 'accepted' });
        return;
      case 'status': {
        if (res.headersSent || res.destroyed) return;
        const body = b.body ?? defaultErrorBody(b.status);
        res.statusCode = b.status;
        res.setHeader('content-type', 'application/json');
        for (const [k, v] of Object.entries(b.headers ?? {})) res.setHeader(k, v);
        res.setHeader('content-length', Buffer.byteLength(body));
        res.end(body);
        return;
      }
      case 'reset':
      case 'resetMidBody':
        resetSocket(socket);
        return;
      case 'blackhole':
        return; // never answer; close() destroys the socket
      case 'malformed':
        socket.end(b.bytes ?? 'SSH-2.0-OpenSSH_9.6\r\n\r\n');
        return;
      case 'delay':
        later(b.ms, () => perform(b.then, rec, res, socket));
        return;
      case 'drip': {
        const then = b.then;
        if (then.kind !== 'accept' && then.kind !== 'status') {
          perform(then, rec, res, socket);
          return;
        }
        if (res.headersSent || res.destroyed) return;
        let body: Buffer;
        if (then.kind === 'accept') {
          commit(rec);
          res.statusCode = then.status ?? 202;
          res.setHeader('content-type', 'application/json');
          body = Buffer.from(JSON.stringify({ status: 'accepted' }));
        } else {
          res.statusCode = then.status;
          res.setHeader('content-type', 'application/json');
          for (const [k, v] of Object.entries(then.headers ?? {})) res.setHeader(k, v);
          body = Buffer.from(then.body ?? defaultErrorBody(then.status));
        }
        res.setHeader('content-length', body.length);
        res.flushHeaders();
        let i = 0;
        const step = (): void => {
          if (res.destroyed || socket.destroyed) return;
          if (i >= body.length) {
            res.end();
            return;
          }
          res.write(body.subarray(i, i + 1));
          i++;
          later(b.ms, step);
        };
        if (body.length === 0) res.end();
        else later(b.ms, step);
        return;
      }
    }
  }

  function handleDrain(req: IncomingMessage, res: ServerResponse): void {
    const index = nextIndex++;
    const socket = req.socket;
    const headerVerdict = validate ? checkHeaders(req.headers, apiKey) : undefined;

    // resetMidBody must be known before the body arrives: only index-only functions can tell that early.
    let resetEarly = false;
    if (headerVerdict === undefined && indexOnly.has(behaviourFn)) {
      try {
        const peek: unknown = behaviourFn(buildRecord(index, req, Buffer.alloc(0)).rec, index);
        resetEarly = isPlainObject(peek) && peek['kind'] === 'resetMidBody';
      } catch {
        // reported when the function is consulted again once the body is in
      }
    }

    const chunks: Buffer[] = [];
    let finished = false;

    req.on('data', (chunk: Buffer) => {
      if (finished) return;
      chunks.push(chunk);
      if (resetEarly) {
        finished = true;
        const { rec } = buildRecord(index, req, Buffer.concat(chunks));
        rec.status = 'reset';
        record(rec);
        resetSocket(socket);
      }
    });

    req.on('close', () => {
      if (finished) return; // the body never completed: the client went away mid-upload
      finished = true;
      const { rec } = buildRecord(index, req, Buffer.concat(chunks));
      rec.status = 'reset';
      record(rec);
    });

    req.on('end', () => {
      if (finished) return;
      finished = true;
      try {
        const { rec, decodeError } = buildRecord(index, req, Buffer.concat(chunks));
        const bodyError = headerVerdict === undefined && validate ? checkBody(rec, decodeError) : undefined;
        const verdict = headerVerdict ?? (bodyError === undefined ? undefined : { status: 400, error: bodyError });
        if (verdict !== undefined) {
          rec.status = verdict.status;
          record(rec);
          sendJson(res, verdict.status, { error: verdict.error });
          return;
        }
        if (resetEarly) {
          // empty body: no chunk ever came
          rec.status = 'reset';
          record(rec);
          resetSocket(socket);
          return;
        }
        let b: Behaviour;
        try {
          const chosen: unknown = behaviourFn(rec, index);
          checkBehaviour(chosen);
          b = chosen;
        } catch (err) {
          console.error(`[receiver] behaviour function failed for request #${index}:`, err);
          rec.status = 500;
          record(rec);
          sendJson(res, 500, { error: `receiver behaviour failed: ${(err as Error)?.message ?? String(err)}` });
          return;
        }
        rec.status = outcomeOf(b);
        record(rec);
        perform(b, rec, res, socket);
      } catch (err) {
        console.error('[receiver] unexpected error:', err);
        sendJson(res, 500, { error: 'receiver internal error' });
      }
    });
  }

  const server = createServer((req, res) => {
    req.on('error', noop);
    res.on('error', noop);
    try {
      if (closed) {
        req.socket.destroy();
        return;
      }
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const pathname = q === -1 ? url : url.slice(0, q);
      if (pathname === '/v1/drain' && req.method === 'POST') {
        handleDrain(req, res);
        return;
      }
      req.resume();
      if (pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
        sendJson(res, 200, { status: 'ok' });
        return;
      }
      sendJson(res, 404, { error: 'not found' });
    } catch (err) {
      console.error('[receiver] unexpected error:', err);
      try {
        sendJson(res, 500, { error: 'receiver internal error' });
      } catch {
        req.socket.destroy();
      }
    }
  });
  server.keepAliveTimeout = 5000;
  let connectionCount = 0;
  server.on('connection', (socket: Socket) => {
    socket.on('error', noop);
    sockets.add(socket);
    connectionCount++;
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) onSocketsDrained?.();
    });
    if (closed) socket.destroy();
  });
  server.on('clientError', (_err: Error, socket) => {
    socket.on('error', noop);
    socket.destroy();
  });
  server.on('error', (err) => console.error('[receiver] server error:', err));

  function describe(): string {
    const statuses = requests.map((r) => String(r.status)).join(', ');
    return `${accepted.length} event(s) accepted from ${requests.length} request(s) [statuses: ${statuses || 'none'}]`;
  }

  function waitFor(what: string, n: number, count: () => number, timeoutMs: number): Promise<void> {
    if (count() >= n) return Promise.resolve();
    if (closed) return Promise.reject(new Error(`${what}(${n}): receiver is closed; ${describe()}`));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        done: () => count() >= n,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${what}(${n}) timed out after ${timeoutMs} ms: ${describe()}`));
        }, timeoutMs),
      };
      waiters.add(waiter);
    });
  }

  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    accepted,
    setBehaviour(fn) {
      behaviourFn = fn;
    },
    setApiKey(key) {
      apiKey = key;
    },
    waitForEvents(n, timeoutMs = 5000) {
      return waitFor('waitForEvents', n, () => accepted.length, timeoutMs);
    },
    waitForRequests(n, timeoutMs = 5000) {
      return waitFor('waitForRequests', n, () => requests.length, timeoutMs);
    },
    openConnections() {
      return sockets.size;
    },
    connectionsAccepted() {
      return connectionCount;
    },
    close() {
      if (closing) return closing;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`receiver closed while waiting; ${describe()}`));
      }
      waiters.clear();
      // resolves once the listener is closed AND every socket has emitted 'close'
      const serverClosed = new Promise<void>((done) => server.close(() => done()));
      const socketsClosed = new Promise<void>((done) => {
        onSocketsDrained = done;
        if (sockets.size === 0) done();
      });
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      closing = Promise.all([serverClosed, socketsClosed]).then(() => undefined);
      return closing;
    },
  };
}
