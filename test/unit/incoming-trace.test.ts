import { channel } from 'node:diagnostics_channel';
import * as http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import * as https from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ROOT_CONTEXT, context, createContextKey, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS } from '../../src/config/exporter-config.ts';
import { correlationSource, ensureContextManager } from '../../src/context/context.ts';
import { bindIncomingTraceparent, incomingTraceContext, tracerProviderRegistered } from '../../src/context/incoming-trace.ts';
import { EventEncoder } from '../../src/exporter/encode.ts';
import { makeSelfSignedCert } from '../support/faults.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { makeRecord } from '../support/records.ts';

// Incoming W3C traceparent headers bound to the request's async context while no tracer provider is
// registered: parsing, the per-request tracer check, and the scoping of the bound context (in the
// handler, across awaits and timers, in request/response listeners; never into the next request of a
// keep-alive or pipelined connection), with a real HTTP server on loopback in this process.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const traceparent = (traceId = TRACE, spanId = PARENT, flags = '01'): string => `00-${traceId}-${spanId}-${flags}`;
const traceIdOf = (n: number): string => n.toString(16).padStart(32, 'a');

describe('incomingTraceContext: which headers bind', () => {
  const parse = (headers: IncomingHttpHeaders) => {
    const ctx = incomingTraceContext(ROOT_CONTEXT, headers);
    return ctx === undefined ? undefined : trace.getSpanContext(ctx);
  };

  it('binds a valid traceparent as a remote, non-recording span context, keeping tracestate', () => {
    const ctx = incomingTraceContext(ROOT_CONTEXT, { traceparent: traceparent(), tracestate: 'vendor=a1' });
    expect(ctx).toBeDefined();
    const span = trace.getSpan(ctx as Context);
    expect(span?.isRecording()).toBe(false);
    expect(span?.spanContext()).toMatchObject({ traceId: TRACE, spanId: PARENT, traceFlags: 1, isRemote: true });
    expect(span?.spanContext().traceState?.get('vendor')).toBe('a1');
  });

  it('binds unsampled parents too (the trace id still correlates), and future versions with extra fields', () => {
    expect(parse({ traceparent: traceparent(TRACE, PARENT, '00') })?.traceFlags).toBe(0);
    expect(parse({ traceparent: `01-${TRACE}-${PARENT}-01-future` })?.traceId).toBe(TRACE);
  });

  it.each([
    ['no header', undefined],
    ['empty', ''],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['version 00 with extra fields', `${traceparent()}-extra`],
    ['all-zero trace id', traceparent('0'.repeat(32))],
    ['all-zero parent id', traceparent(TRACE, '0'.repeat(16))],
    ['upper-case hex', traceparent(TRACE.toUpperCase())],
    ['short trace id', traceparent(TRACE.slice(2))],
    ['long parent id', traceparent(TRACE, PARENT + '00')],
    ['not hex', traceparent('z'.repeat(32))],
    ['two headers (Node joins them with a comma)', `${traceparent()}, ${traceparent(traceIdOf(2))}`],
  ])('binds nothing for %s', (_name, value) => {
    expect(incomingTraceContext(ROOT_CONTEXT, value === undefined ? {} : { traceparent: value })).toBeUndefined();
  });

  it('keeps what the base context holds', () => {
    const key = createContextKey('base value');
    const ctx = incomingTraceContext(ROOT_CONTEXT.setValue(key, 'kept'), { traceparent: traceparent() });
    expect(ctx?.getValue(key)).toBe('kept');
  });
});

describe('the event of a remote span context', () => {
  const encoder = new EventEncoder({ projectId: undefined, service: undefined, redactKeys: DEFAULT_REDACT_KEYS, maxEventBytes: 65536, maxStringLength: 4096, maxDepth: 10 });
  const encode = (spanContext: SpanContext) =>
    JSON.parse(encoder.encodeEvent(makeRecord({ body: 'm', spanContext }))) as { trace_id?: string; metadata: Record<string, unknown> };

  it("names the caller's span parent_span_id (it is not a span of this service)", () => {
    const event = encode({ traceId: TRACE, spanId: PARENT, traceFlags: 1, isRemote: true });
    expect(event.trace_id).toBe(TRACE);
    expect(event.metadata).toEqual({ parent_span_id: PARENT });
  });

  it('keeps span_id for a local span', () => {
    expect(encode({ traceId: TRACE, spanId: PARENT, traceFlags: 1 }).metadata).toEqual({ span_id: PARENT });
  });
});

/** What a handler saw of the bound trace, at each point of its handling. */
interface Seen {
  n: string;
  /** The connection it came on (1, 2, … in order of connection). */
  connection: number;
  points: Record<string, string | undefined>;
  parent: string | undefined;
}

/** What the scoping tests need of http or https: Node's HTTP server runs the same code for both, over different sockets. */
interface Transport {
  createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
  request(options: http.RequestOptions, onResponse: (res: IncomingMessage) => void): http.ClientRequest;
  agent(options: http.AgentOptions): http.Agent;
  connect(port: number): Socket;
}

const plain: Transport = {
  createServer: (handler) => http.createServer(handler),
  request: (options, onResponse) => http.request(options, onResponse),
  agent: (options) => new http.Agent(options),
  connect: (port) => connect(port, '127.0.0.1'),
};

function secure(): Transport {
  const tls = makeSelfSignedCert();
  return {
    createServer: (handler) => https.createServer({ cert: tls.cert, key: tls.key }, handler),
    request: (options, onResponse) => https.request({ ...options, ca: tls.cert }, onResponse),
    agent: (options) => new https.Agent({ ...options, ca: tls.cert }),
    connect: (port) => connectTls({ port, host: '127.0.0.1', ca: tls.cert }),
  };
}

describe.each([
  ['http', () => plain],
  ['https', secure],
] as const)('bindIncomingTraceparent (%s)', (_name, makeTransport) => {
  let transport: Transport;
  beforeAll(() => {
    transport = makeTransport();
  });
  let manager: AsyncLocalStorageContextManager;
  let stop: () => void;
  let server: Server;
  let port: number;
  let seen: Map<string, Seen>;
  const finished = new Map<string, () => void>();
  const finishedPromise = (n: string): Promise<void> => new Promise((resolve) => finished.set(n, resolve));

  const activeTrace = (): string | undefined => trace.getSpanContext(manager.active())?.traceId;

  /**
   * Answers at once with its headers (so a client sends the body only then, and the body events come
   * from the socket, after the handler returned), reads the body, then answers with what it saw.
   */
  async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = req.url?.slice(1) ?? '';
    const record: Seen = { n, connection: connectionOf(req.socket as Socket), points: {}, parent: undefined };
    seen.set(n, record);
    record.points.sync = activeTrace();
    record.parent = trace.getSpanContext(manager.active())?.spanId;
    res.on('finish', () => {
      record.points.finish = activeTrace();
      finished.get(n)?.();
    });
    await nextTurn();
    record.points.afterAwait = activeTrace();
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
    record.points.afterTimer = activeTrace();
    if (req.method === 'POST') {
      res.writeHead(200).flushHeaders();
      await new Promise<void>((resolve) => {
        req.on('data', () => {
          record.points.data = activeTrace();
        });
        req.on('end', () => {
          record.points.end = activeTrace();
          resolve();
        });
      });
    }
    res.end(JSON.stringify(record));
  }

  const connections = new WeakMap<Socket, number>();
  let connectionCount = 0;
  const connectionOf = (socket: Socket): number => {
    let id = connections.get(socket);
    if (id === undefined) connections.set(socket, (id = ++connectionCount));
    return id;
  };

  beforeEach(async () => {
    manager = new AsyncLocalStorageContextManager().enable();
    stop = bindIncomingTraceparent(manager);
    seen = new Map();
    server = transport.createServer((req, res) => void handler(req, res));
    port = await listenOnLoopback(server);
  });

  afterEach(async () => {
    stop();
    trace.disable();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** GET (or POST with the body sent once the answer's headers are in) `/n`; resolves with what the handler saw, once its response has finished too. */
  async function send(n: string, headers: Record<string, string>, options: { agent?: http.Agent; post?: boolean } = {}): Promise<Seen> {
    const done = finishedPromise(n);
    await new Promise<void>((resolve, reject) => {
      const req = transport.request({ host: '127.0.0.1', port, path: `/${n}`, method: options.post ? 'POST' : 'GET', headers, agent: options.agent ?? false }, (res) => {
        if (options.post) req.end('body of ' + n);
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      if (options.post) req.flushHeaders();
      else req.end();
    });
    await done;
    return seen.get(n) as Seen;
  }

  const everywhere = (traceId: string | undefined, post = false): Record<string, string | undefined> => ({
    sync: traceId,
    afterAwait: traceId,
    afterTimer: traceId,
    ...(post ? { data: traceId, end: traceId } : {}),
    finish: traceId,
  });

  it("binds a request's traceparent for all of its handling: awaits, timers, body and finish listeners", async () => {
    const r = await send('1', { traceparent: traceparent() }, { post: true });
    expect(r.points).toEqual(everywhere(TRACE, true));
    expect(r.parent).toBe(PARENT);
  });

  it('binds nothing to a request without a traceparent, or with an invalid one', async () => {
    expect((await send('1', {}, { post: true })).points).toEqual(everywhere(undefined, true));
    expect((await send('2', { traceparent: traceparent('0'.repeat(32)) })).points).toEqual(everywhere(undefined));
  });

  it('never carries a trace into the next request of a keep-alive connection', async () => {
    const agent = transport.agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await send('1', { traceparent: traceparent(traceIdOf(1)) }, { agent, post: true });
      const b = await send('2', {}, { agent, post: true });
      const c = await send('3', { traceparent: traceparent(traceIdOf(3)) }, { agent });
      const d = await send('4', {}, { agent });
      expect([a.connection, b.connection, c.connection, d.connection]).toEqual([a.connection, a.connection, a.connection, a.connection]);
      expect(a.points).toEqual(everywhere(traceIdOf(1), true));
      expect(b.points).toEqual(everywhere(undefined, true));
      expect(c.points).toEqual(everywhere(traceIdOf(3)));
      expect(d.points).toEqual(everywhere(undefined));
    } finally {
      agent.destroy();
    }
  });

  it('never carries a trace into the next of pipelined requests parsed in one read', async () => {
    const socket = transport.connect(port);
    const done = Promise.all(['1', '2', '3', '4'].map(finishedPromise));
    const get = (n: string, extra: string): string => `GET /${n} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
    socket.write(
      get('1', `traceparent: ${traceparent(traceIdOf(1))}\r\n`) + get('2', '') + get('3', `traceparent: ${traceparent(traceIdOf(3))}\r\n`) + get('4', 'Connection: close\r\n'),
    );
    socket.resume();
    await done;
    socket.destroy();
    const connection = seen.get('1')?.connection;
    expect(['1', '2', '3', '4'].map((n) => seen.get(n)?.connection)).toEqual([connection, connection, connection, connection]);
    expect(seen.get('1')?.points).toEqual(everywhere(traceIdOf(1)));
    expect(seen.get('2')?.points).toEqual(everywhere(undefined));
    expect(seen.get('3')?.points).toEqual(everywhere(traceIdOf(3)));
    expect(seen.get('4')?.points).toEqual(everywhere(undefined));
  });

  it('steps aside, request by request, while a tracer provider is registered (its spans carry the trace)', async () => {
    expect((await send('1', { traceparent: traceparent(traceIdOf(1)) })).points.sync).toBe(traceIdOf(1));
    expect(trace.setGlobalTracerProvider(new TracerProvider())).toBe(true);
    expect(tracerProviderRegistered()).toBe(true);
    expect((await send('2', { traceparent: traceparent(traceIdOf(2)) })).points).toEqual(everywhere(undefined));
    trace.disable();
    expect(tracerProviderRegistered()).toBe(false);
    expect((await send('3', { traceparent: traceparent(traceIdOf(3)) })).points.sync).toBe(traceIdOf(3));
  });

  it('never throws into the server, whatever the channel carries', () => {
    const start = channel('http.server.request.start');
    const hostile = {
      get request(): never {
        throw new Error('hostile');
      },
    };
    expect(() => start.publish(hostile)).not.toThrow();
    expect(() => start.publish({ request: { headers: { traceparent: 42 } }, response: {} })).not.toThrow();
    expect(() => start.publish(undefined)).not.toThrow();
  });
});

describe('ensureContextManager and correlationSource', () => {
  afterEach(() => {
    trace.disable();
    context.disable();
  });

  it("says 'traceparent' under ours until a tracer provider is registered, then 'spans'", () => {
    expect(ensureContextManager()).toBe('registered');
    expect(ensureContextManager()).toBe('registered'); // ours, registered earlier (by this or another copy)
    expect(correlationSource('registered')).toBe('traceparent');
    trace.setGlobalTracerProvider(new TracerProvider());
    expect(correlationSource('registered')).toBe('spans');
  });

  it("says 'none' under the application's context manager while no tracer provider is registered", () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    expect(ensureContextManager()).toBe('existing');
    expect(correlationSource('existing')).toBe('none');
    trace.setGlobalTracerProvider(new TracerProvider());
    expect(correlationSource('existing')).toBe('spans');
    expect(correlationSource('failed')).toBe('off');
  });
});
