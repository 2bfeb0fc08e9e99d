import diagnostics from 'node:diagnostics_channel';
import dns from 'node:dns';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed } from '@opentelemetry/core';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensureContextManager } from '../../src/context/context.ts';
import { HttpTransport, TransportError, type SendOptions } from '../../src/exporter/transport.ts';
import { activeContextReadable } from '../../src/ground/otel-registry.ts';
import { failureVerdict } from '../../src/exporter/verdict.ts';
import { AstralogConfigError } from '../../src/config/errors.ts';
import { headersOption } from '../../src/config/validate.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { tick } from '../support/processing.ts';

// HttpTransport (node:http underneath) against loopback servers that answer with exactly the bytes a
// test scripts, for what a well-behaved HTTP server never does: early answers, closes, malformed
// heads. Each failure must come out as a TransportError whose code verdict.ts classifies.

interface LoopbackServer {
  port: number;
  /** Every connection accepted, in order. */
  sockets: net.Socket[];
  /** Most connections open at the same time. */
  peakOpen: () => number;
  close: () => Promise<void>;
}

const servers: LoopbackServer[] = [];

/** A raw TCP server on 127.0.0.1 handing each connection to `onSocket`; closed after the test. */
async function loopbackServer(onSocket: (socket: net.Socket, index: number) => void): Promise<LoopbackServer> {
  const sockets: net.Socket[] = [];
  let open = 0;
  let peak = 0;
  const tcp = net.createServer((socket) => {
    sockets.push(socket);
    peak = Math.max(peak, ++open);
    socket.on('close', () => open--);
    socket.on('error', () => undefined);
    onSocket(socket, sockets.length - 1);
  });
  const server: LoopbackServer = {
    port: await listenOnLoopback(tcp),
    sockets,
    peakOpen: () => peak,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      if (tcp.listening) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
  servers.push(server);
  return server;
}

/** A port nothing listens on (any more). */
async function closedPort(): Promise<number> {
  const server = await loopbackServer(() => undefined);
  await server.close();
  return server.port;
}

interface ScriptedRequest {
  head: string;
  body: Buffer;
  socket: net.Socket;
  /** Which connection (0, 1, …) carried it. */
  connection: number;
}

interface ScriptedServer extends LoopbackServer {
  url: URL;
  requests: ScriptedRequest[];
}

/** A server that reads each request (head + Content-Length body) and lets `answer` write raw bytes. */
async function scriptedServer(answer: (request: ScriptedRequest, index: number) => void): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  const server = await loopbackServer((socket, connection) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = pending.toString('latin1', 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const request = { head, body: pending.subarray(end + 4, end + 4 + length), socket, connection };
        pending = pending.subarray(end + 4 + length);
        requests.push(request);
        answer(request, requests.length - 1);
      }
    });
  });
  return { ...server, url: new URL(`http://127.0.0.1:${server.port}/v1/drain?x=1`), requests };
}

/** A server that writes `answer` as soon as a request's head arrives, and reads no more of it. */
function earlyAnswerServer(answer: string): Promise<LoopbackServer> {
  return loopbackServer((socket) =>
    socket.once('data', () => {
      socket.pause();
      socket.write(answer);
    }),
  );
}

const urlOf = (port: number, host = '127.0.0.1') => new URL(`http://${host}:${port}/v1/drain`);

const ACCEPTED = 'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"status":"accepted"}';

let transport: HttpTransport | undefined;
afterEach(async () => {
  transport?.destroy();
  transport = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function transportFor(url: URL, headers: Record<string, string> = {}): HttpTransport {
  transport = new HttpTransport({ url: url.href, apiKey: 'test-key', headers, compression: 'none', ca: undefined, proxy: undefined });
  return transport;
}

const signal = new AbortController().signal;
const send = (t: HttpTransport, body = '{"events":[]}', timeoutMs = 5_000, options: Partial<SendOptions> = {}) =>
  t.send(Buffer.from(body), { timeoutMs, signal, ...options });
/** The code of the TransportError a request fails with. */
const failureOf = (answer: Promise<unknown>) => answer.then(() => 'answered', (e: unknown) => (e instanceof TransportError ? e.code : `not a TransportError: ${String(e)}`));

describe('HttpTransport', () => {
  it('writes the request line, the contract headers and the body, and reuses one connection', async () => {
    const server = await scriptedServer((r) => r.socket.write(ACCEPTED));
    const t = transportFor(server.url, { 'x-team': 'payments' });
    for (let i = 0; i < 3; i++) {
      expect(await send(t, `{"events":[${i}]}`)).toEqual({ status: 202, retryAfter: undefined, body: '' });
      await tick(); // a connection is freed on the loop turn after its answer; a request sent sooner opens another
    }
    expect(server.sockets.length).toBe(1);
    const [first] = server.requests;
    expect(first?.head.split('\r\n')[0]).toBe('POST /v1/drain?x=1 HTTP/1.1');
    expect(first?.head).toMatch(/\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    expect(first?.head).toContain('\r\nauthorization: Bearer test-key\r\n');
    expect(first?.head).toContain('\r\ncontent-type: application/json\r\n');
    expect(first?.head).toContain('\r\nx-team: payments\r\n');
    expect(first?.head).toMatch(/\r\ncontent-length: 14(\r\n|$)/);
    expect(server.requests.map((r) => r.body.toString())).toEqual(['{"events":[0]}', '{"events":[1]}', '{"events":[2]}']);
  });

  it('opens a new connection after an answer that closes, or a server that closed an idle one', async () => {
    const server = await scriptedServer((r, i) => {
      if (i === 0) r.socket.end('HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else if (i === 1) r.socket.write(ACCEPTED, () => setTimeout(() => r.socket.end(), 20));
      else r.socket.write(ACCEPTED);
    });
    const t = transportFor(server.url);
    expect((await send(t)).status).toBe(202);
    expect((await send(t)).status).toBe(202);
    await once(server.sockets[1] as net.Socket, 'close'); // the server closed the idle connection
    expect((await send(t)).status).toBe(202);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1, 2]);
  });

  describe("the server's Keep-Alive timeout hint", () => {
    const answerWith = (hint: string) => `HTTP/1.1 202 Accepted\r\nKeep-Alive: ${hint}\r\nContent-Length: 0\r\n\r\n`;

    it('timeout=1 (shorter than the safety margin): the connection is not reused, the client closes it', async () => {
      const server = await scriptedServer((r) => r.socket.write(answerWith('timeout=1')));
      const t = transportFor(server.url);
      expect((await send(t)).status).toBe(202);
      await once(server.sockets[0] as net.Socket, 'end'); // the client ended it; the server never does
      expect((await send(t)).status).toBe(202);
      expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
    });

    it('timeout=600: one connection carries every request', async () => {
      const server = await scriptedServer((r) => r.socket.write(answerWith('timeout=600')));
      const t = transportFor(server.url);
      for (let i = 0; i < 3; i++) {
        expect((await send(t)).status).toBe(202);
        await tick();
      }
      expect(server.requests.map((r) => r.connection)).toEqual([0, 0, 0]);
    });
  });

  it('hands back an error answer with the start of its body: chunked, sized, or delimited by the close', async () => {
    const server = await scriptedServer((r, i) => {
      if (i === 0) r.socket.write('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"error":\r\n');
      if (i === 0) setTimeout(() => r.socket.write('C\r\n"saturated"}\r\n0\r\n\r\n'), 20);
      if (i === 1) r.socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: 10000\r\n\r\n${'x'.repeat(10_000)}`);
      if (i === 2) r.socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n{"error":"down"}');
    });
    const t = transportFor(server.url);
    expect(await send(t)).toEqual({ status: 429, retryAfter: '3', body: '{"error":"saturated"}' });
    await tick();
    const bad = await send(t);
    expect(bad.status).toBe(400);
    expect(bad.body).toHaveLength(4096);
    await tick();
    expect(await send(t)).toEqual({ status: 503, retryAfter: undefined, body: '{"error":"down"}' });
    expect(server.requests.map((r) => r.connection)).toEqual([0, 0, 0]);
  });

  it('skips informational answers (103 Early Hints) before the final one', async () => {
    const server = await scriptedServer((r) => r.socket.write(`HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n${ACCEPTED}`));
    expect((await send(transportFor(server.url))).status).toBe(202);
  });

  it('resolves a 2xx at its status even while the body never ends, then drops that connection at the timeout', async () => {
    const server = await scriptedServer((r) => r.socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{"sta'));
    const t = transportFor(server.url);
    let released = false;
    expect((await send(t, '{}', 300, { onReleased: () => (released = true) })).status).toBe(202);
    expect(released).toBe(false); // its connection still reads the answer
    await once(server.sockets[0] as net.Socket, 'close'); // the transport gave up on the body at 300 ms
    expect(released).toBe(true);
    expect((await send(t, '{}', 300)).status).toBe(202);
    expect(server.requests[1]?.connection).not.toBe(0);
  });

  it('does not reuse a connection whose answer came before the whole request was read', async () => {
    const early = await earlyAnswerServer('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n');
    const t = transportFor(urlOf(early.port));
    const big = 'x'.repeat(4 * 1024 * 1024);
    expect((await send(t, big)).status).toBe(413);
    expect((await send(t, big)).status).toBe(413);
    expect(early.sockets).toHaveLength(2); // the second request did not go down the half-written connection
  });

  it('releases a payload only once no socket writes it: a 2xx answered before the body was read', async () => {
    // 202 at once, then a body that never ends; the server reads nothing more.
    const early = await earlyAnswerServer('HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{"sta');
    let released = false;
    const answer = await send(transportFor(urlOf(early.port)), 'x'.repeat(4 * 1024 * 1024), 500, { onReleased: () => (released = true) });
    expect(answer.status).toBe(202);
    expect(released).toBe(false); // megabytes of it still wait in the socket
    const socket = early.sockets[0] as net.Socket;
    const closed = once(socket, 'close');
    socket.resume(); // read what the client goes on sending, until it gives up at the timeout and closes
    await closed;
    expect(released).toBe(true);
  });

  it('releases a payload only once its writes completed, also when a complete keep-alive answer came first', async () => {
    // The answer is complete (and keep-alive) at the first bytes; the server reads the rest later.
    let received = Buffer.alloc(0);
    let reader: net.Socket | undefined;
    const server = await loopbackServer((socket) => {
      socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
      socket.once('data', () => {
        socket.pause();
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        reader = socket;
      });
    });
    const payload = Buffer.alloc(8 * 1024 * 1024, 'A'); // more than loopback's socket buffers take
    let released = false;
    const answer = await transportFor(urlOf(server.port)).send(payload, {
      timeoutMs: 5_000,
      signal,
      onReleased: () => {
        released = true;
        payload.fill('B'); // what reusing the memory does
      },
    });
    expect(answer.status).toBe(200);
    await tick(50);
    expect(released).toBe(false); // megabytes still wait to be written
    reader?.resume();
    await vi.waitFor(() => expect(released).toBe(true), { timeout: 5_000 });
    const body = () => received.subarray(received.indexOf('\r\n\r\n') + 4);
    await vi.waitFor(() => expect(body().length).toBe(payload.length), { timeout: 5_000 }); // what the kernel still held
    expect(body().includes('B')).toBe(false); // nothing of the reused memory went out
  });

  it("runs node:http with tracing suppressed, so that an http instrumentation never traces the exporter's own requests", async () => {
    const server = await scriptedServer((r) => r.socket.write(ACCEPTED));
    const manager = new AsyncLocalStorageContextManager().enable();
    expect(context.setGlobalContextManager(manager)).toBe(true);
    const seen: boolean[] = [];
    const onCreate = () => seen.push(isTracingSuppressed(context.active()));
    diagnostics.subscribe('http.client.request.start', onCreate);
    try {
      expect((await send(transportFor(server.url))).status).toBe(202);
    } finally {
      diagnostics.unsubscribe('http.client.request.start', onCreate);
      context.disable();
    }
    expect(seen).toEqual([true]);
  });

  it('under our context manager while no context was ever entered (no tracer provider): suppressed all the same, the manager left idle', async () => {
    const server = await scriptedServer((r) => r.socket.write(ACCEPTED));
    expect(ensureContextManager()).toBe('registered');
    // As an http instrumentation wraps node:http's request (in place, on the module every copy shares)
    // and decides there, synchronously, whether to trace the request.
    const http = process.getBuiltinModule('node:http');
    const request = http.request;
    const seen: boolean[] = [];
    http.request = function (this: unknown, ...args: unknown[]) {
      seen.push(isTracingSuppressed(context.active()));
      return (request as (...a: unknown[]) => ReturnType<typeof request>).apply(this, args);
    } as typeof request;
    try {
      expect((await send(transportFor(server.url))).status).toBe(202);
      expect(activeContextReadable()).toBe(false); // nothing loaded for it: a process that never traces pays nothing
    } finally {
      http.request = request;
      context.disable();
    }
    expect(seen).toEqual([true]);
  });

  // Each malformed or cut answer fails the attempt as a TransportError that is retried (verdict.ts):
  // never as a status, never as a pause.
  it.each([
    ['a status line that is not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['bare LF line ends', 'HTTP/1.1 202 Accepted\nContent-Length: 2\n\nok', 'HPE_CR_EXPECTED'],
    ['Content-Length: 2, 2', 'HTTP/1.1 202 Accepted\r\nContent-Length: 2, 2\r\n\r\nok', 'HPE_INVALID_CONTENT_LENGTH'],
    ['a 17 KB head', `HTTP/1.1 202 Accepted\r\nX-Waf: ${'a'.repeat(17_000)}\r\nContent-Length: 2\r\n\r\nok`, 'HPE_HEADER_OVERFLOW'],
  ])('%s: a retried TransportError (%s)', async (_name, answer, code) => {
    const server = await scriptedServer((r) => r.socket.write(answer));
    const failure = await failureOf(send(transportFor(server.url)));
    expect(failure).toBe(code);
    expect(failureVerdict(failure)).toBe('retry');
  });

  it('takes a 100 Continue nobody asked for as informational: the final answer follows', async () => {
    const server = await scriptedServer((r) => r.socket.write(`HTTP/1.1 100 Continue\r\n\r\n${ACCEPTED}`));
    expect((await send(transportFor(server.url))).status).toBe(202);
  });

  it.each([
    ['with an Upgrade header', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    ['then the connection closes', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n', true],
  ])('a 101 Switching Protocols %s: a retried TransportError, and the payload released', async (_name, answer, close = false) => {
    const server = await scriptedServer((r) => {
      r.socket.write(answer);
      if (close) r.socket.end();
    });
    let released = false;
    const failure = await failureOf(send(transportFor(server.url), '{}', 5_000, { onReleased: () => (released = true) }));
    expect(failure).toBe('ERR_UNEXPECTED_UPGRADE');
    expect(failureVerdict(failure)).toBe('retry');
    await vi.waitFor(() => expect(released).toBe(true));
  });

  it('fails an answer cut short as a retried TransportError', async () => {
    const server = await scriptedServer((r) => r.socket.end('HTTP/1.1 202 Acc'));
    const failure = await failureOf(send(transportFor(server.url)));
    expect(failure).toBe('ECONNRESET');
    expect(failureVerdict(failure)).toBe('retry');
  });

  it('drops a connection that sends more than the answer, without failing the request it answered', async () => {
    const server = await scriptedServer((r, i) => r.socket.write(i === 0 ? `${ACCEPTED}HTTP/1.1 200 OK\r\n\r\n` : ACCEPTED));
    const t = transportFor(server.url);
    expect((await send(t)).status).toBe(202);
    expect((await send(t)).status).toBe(202);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
  });

  it('fails a connection it cannot make with the socket error code', async () => {
    expect(await failureOf(send(transportFor(urlOf(await closedPort()))))).toBe('ECONNREFUSED');
  });

  it('opens at most 64 connections; further requests wait for one, and all are answered', async () => {
    const server = await scriptedServer((r) => setTimeout(() => r.socket.write(ACCEPTED), 50));
    const t = transportFor(server.url);
    const answers = await Promise.all(Array.from({ length: 140 }, () => send(t)));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(server.requests).toHaveLength(140);
    expect(server.peakOpen()).toBe(64);
  });

  it('abandons a waiting or running request on abort and on timeout, releasing its payload', async () => {
    const server = await scriptedServer(() => undefined); // never answers
    const t = transportFor(server.url);
    const controller = new AbortController();
    let released = 0;
    const aborted = t.send(Buffer.from('{}'), { timeoutMs: 5_000, signal: controller.signal, onReleased: () => released++ });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1)); // running, not waiting to start
    controller.abort();
    expect(await failureOf(aborted)).toBe('ABORT_ERR');
    expect(released).toBe(1);
    expect(await failureOf(send(t, '{}', 50, { onReleased: () => released++ }))).toBe('ETIMEDOUT');
    expect(released).toBe(2);
  });

  it('after destroy(), fails requests under way and waiting ones as aborted (not as retryable resets), later ones at once', async () => {
    const server = await scriptedServer(() => undefined); // never answers
    const t = transportFor(server.url);
    const pending = Array.from({ length: 70 }, () => failureOf(send(t)));
    await vi.waitFor(() => expect(server.requests).toHaveLength(64)); // 64 under way, 6 waiting for a connection
    t.destroy();
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 70 }, () => 'ABORT_ERR'));
    expect(await failureOf(send(t))).toBe('ABORT_ERR');
  });

  it('after destroy(), opens no connection for the requests that were waiting for one', async () => {
    // Node's agent opens a connection for a queued request as another closes: watch what it creates.
    const created: net.Socket[] = [];
    const onSocket = (message: unknown) => created.push((message as { socket: net.Socket }).socket);
    diagnostics.subscribe('net.client.socket', onSocket);
    try {
      const server = await scriptedServer(() => undefined); // never answers
      const t = transportFor(server.url);
      const pending = Array.from({ length: 66 }, () => failureOf(send(t)));
      await vi.waitFor(() => expect(server.requests).toHaveLength(64)); // 64 under way, 2 waiting
      const before = created.length;
      t.destroy();
      expect(await Promise.all(pending)).toEqual(Array.from({ length: 66 }, () => 'ABORT_ERR'));
      await Promise.all(created.slice(0, before).map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
      // Nothing to wait for when it is right; when it is wrong, a connection came within ~30 ms of
      // the last close (Node 24): half a second cannot fail a right transport, only miss a wrong one.
      await tick(500);
      expect(created.length - before).toBe(0);
    } finally {
      diagnostics.unsubscribe('net.client.socket', onSocket);
    }
  });

  it('a request given up on while it waited for a connection leaves no trace in the pool: a connection closing later is handled', async () => {
    const server = await scriptedServer(() => undefined); // never answers
    const t = transportFor(server.url);
    const running = Array.from({ length: 64 }, () => failureOf(send(t, '{}', 10_000)));
    await vi.waitFor(() => expect(server.requests).toHaveLength(64));
    expect(await failureOf(send(t, '{}', 30))).toBe('ETIMEDOUT'); // waited in the queue, given up on
    // Node's agent reads the first request of every queue it still has when a connection closes.
    (server.sockets[0] as net.Socket).destroy();
    expect(await running[0]).toBe('ECONNRESET');
    t.destroy();
    expect(new Set(await Promise.all(running.slice(1)))).toEqual(new Set(['ABORT_ERR']));
  });

  it('an abort after an error status rejects as aborted rather than answering with the status', async () => {
    let headWritten!: () => void;
    const written = new Promise<void>((resolve) => (headWritten = resolve));
    const server = await scriptedServer((r) => r.socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n{"err', () => headWritten()));
    const t = transportFor(server.url);
    const controller = new AbortController();
    const answer = t.send(Buffer.from('{}'), { timeoutMs: 5_000, signal: controller.signal });
    await written;
    await tick(20); // the head has arrived at the client, the rest of the body never will
    controller.abort();
    expect(await failureOf(answer)).toBe('ABORT_ERR');
  });

  describe('with a host name that resolves to a refusing address first', () => {
    const lookup = dns.lookup;
    afterEach(() => {
      dns.lookup = lookup;
    });
    /** `multi.test` resolves to 127.0.0.2 (nobody listens there), then to the given address. */
    function resolveMultiTo(second: string): void {
      dns.lookup = ((host: string, options: unknown, callback: unknown) => {
        if (host !== 'multi.test') return (lookup as (...a: unknown[]) => unknown)(host, options, callback);
        const done = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
        const all = [
          { address: '127.0.0.2', family: 4 },
          { address: second, family: 4 },
        ];
        return (options as { all?: boolean }).all === true ? done(null, all) : done(null, all[0]?.address, 4);
      }) as typeof dns.lookup;
    }

    it('a background request does not hold the process once connected to the second address', async () => {
      let requested!: () => void;
      const requestArrived = new Promise<void>((resolve) => (requested = resolve));
      const server = await loopbackServer((socket) => {
        socket.unref();
        socket.once('data', () => requested());
      });
      resolveMultiTo('127.0.0.1');
      const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      await tick(50); // sockets of earlier tests finish closing
      const before = sockets();
      const t = transportFor(urlOf(server.port, 'multi.test'));
      const answer = failureOf(send(t, '{}', 5_000, { keepProcessAlive: false }));
      await requestArrived; // so the client's connect handler has run
      expect(server.sockets).toHaveLength(1);
      expect(sockets()).toBe(before);
      t.destroy();
      expect(await answer).toBe('ABORT_ERR');
    });

    it('says which addresses refused when all do', async () => {
      const port = await closedPort();
      resolveMultiTo('127.0.0.1');
      const error = (await send(transportFor(urlOf(port, 'multi.test'))).catch((e: unknown) => e)) as TransportError;
      expect(error.code).toBe('ECONNREFUSED');
      expect(error.message).toMatch(/127\.0\.0\.2.*127\.0\.0\.1/);
    });
  });

  it('refuses header values that cannot be written into an HTTP head', () => {
    expect(() => headersOption('headers', { 'x-team': 'caf\u00e9' })).not.toThrow(); // Latin-1 is fine
    expect(() => headersOption('headers', { 'x-team': 'team \u2603' })).toThrow(AstralogConfigError);
    expect(() => headersOption('headers', { 'x-team': 'a\r\nx-evil: 1' })).toThrow(AstralogConfigError);
    // headers that belong to the exporter or to the proxy (Expect would make node:http wait for a 100 Continue)
    expect(() => headersOption('headers', { Expect: '100-continue' })).toThrow(/'Expect' is the exporter's own/);
    expect(() => headersOption('headers', { 'Proxy-Authorization': 'Basic x' })).toThrow(AstralogConfigError);
    expect(() => transportFor(urlOf(9), { 'x-team': 'a\r\nx-evil: 1' })).toThrow(TypeError);
  });
});
