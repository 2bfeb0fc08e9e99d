import dns from 'node:dns';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpTransport, TransportError } from '../../src/exporter/transport.ts';
import { AstralogConfigError } from '../../src/config/errors.ts';
import { headersOption } from '../../src/config/validate.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { tick } from '../support/processing.ts';

// HttpTransport against loopback servers that answer with exactly the bytes a test scripts,
// for what a well-behaved HTTP server never does: early answers, closes, malformed heads.

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
  transport = new HttpTransport({ url, apiKey: 'test-key', headers, compression: 'none', ca: undefined });
  return transport;
}

const signal = new AbortController().signal;
const send = (t: HttpTransport, body = '{"events":[]}', timeoutMs = 5_000) => t.send(Buffer.from(body), timeoutMs, signal);

describe('HttpTransport', () => {
  it('writes the request line, the contract headers and the body, and reuses one connection', async () => {
    const server = await scriptedServer((r) => r.socket.write(ACCEPTED));
    const t = transportFor(server.url, { 'x-team': 'payments' });
    for (let i = 0; i < 3; i++) expect(await send(t, `{"events":[${i}]}`)).toEqual({ status: 202, retryAfter: undefined, body: '' });
    expect(server.sockets.length).toBe(1);
    const [first] = server.requests;
    expect(first?.head.split('\r\n')[0]).toBe('POST /v1/drain?x=1 HTTP/1.1');
    expect(first?.head).toMatch(/\r\nhost: 127\.0\.0\.1:\d+\r\n/);
    expect(first?.head).toContain('\r\nauthorization: Bearer test-key\r\n');
    expect(first?.head).toContain('\r\ncontent-type: application/json\r\n');
    expect(first?.head).toContain('\r\nx-team: payments\r\n');
    expect(first?.head).toMatch(/\r\ncontent-length: 14$/);
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

  it('hands back an error answer with the start of its body, chunked or not', async () => {
    const server = await scriptedServer((r, i) => {
      if (i === 0) r.socket.write('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"error":\r\n');
      if (i === 0) setTimeout(() => r.socket.write('C\r\n"saturated"}\r\n0\r\n\r\n'), 20);
      if (i === 1) r.socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: 10000\r\n\r\n${'x'.repeat(10_000)}`);
    });
    const t = transportFor(server.url);
    expect(await send(t)).toEqual({ status: 429, retryAfter: '3', body: '{"error":"saturated"}' });
    const bad = await send(t);
    expect(bad.status).toBe(400);
    expect(bad.body).toHaveLength(4096);
    expect(server.sockets.length).toBe(1);
  });

  it('resolves a 2xx at its status even while the body never ends, then drops that connection at the timeout', async () => {
    const server = await scriptedServer((r) => r.socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{"sta'));
    const t = transportFor(server.url);
    expect((await send(t, '{}', 300)).status).toBe(202);
    await once(server.sockets[0] as net.Socket, 'close'); // the transport gave up on the body at 300 ms
    expect((await send(t, '{}', 300)).status).toBe(202);
    expect(server.sockets.length).toBe(2);
  });

  it('does not reuse a connection whose answer came before the whole request was read', async () => {
    const early = await earlyAnswerServer('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n');
    const t = transportFor(urlOf(early.port));
    const big = 'x'.repeat(4 * 1024 * 1024);
    expect((await send(t, big)).status).toBe(413);
    expect((await send(t, big)).status).toBe(413);
    expect(early.sockets).toHaveLength(2); // the second request did not go down the half-written connection
  });

  it('once a 2xx settles before its request was fully written, stops writing it (the payload may be reused)', async () => {
    // 202 at once, then a body that never ends.
    const early = await earlyAnswerServer('HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{"sta');
    expect((await send(transportFor(urlOf(early.port)), 'x'.repeat(4 * 1024 * 1024), 5_000)).status).toBe(202);
    // Read what the client managed to send: its end comes at once, not at the 5 s timeout.
    const socket = early.sockets[0] as net.Socket;
    const started = Date.now();
    const closed = once(socket, 'close').then(() => Date.now() - started);
    socket.resume();
    expect(await closed).toBeLessThan(2_000);
  });

  it('fails a malformed answer as HPE_INVALID_RESPONSE and a cut one as ECONNRESET, not as a status', async () => {
    const server = await scriptedServer((r, i) => {
      if (i === 0) r.socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n');
      else r.socket.end('HTTP/1.1 202 Acc');
    });
    const t = transportFor(server.url);
    await expect(send(t)).rejects.toMatchObject({ name: 'TransportError', code: 'HPE_INVALID_RESPONSE' });
    await expect(send(t)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('drops a connection that sends more than the answer, without failing the request it answered', async () => {
    const server = await scriptedServer((r, i) => r.socket.write(i === 0 ? `${ACCEPTED}HTTP/1.1 200 OK\r\n\r\n` : ACCEPTED));
    const t = transportFor(server.url);
    expect((await send(t)).status).toBe(202);
    expect((await send(t)).status).toBe(202);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
  });

  it('refuses a connection it cannot make with the socket error code', async () => {
    const error = await send(transportFor(urlOf(await closedPort()))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('ECONNREFUSED');
  });

  it('opens at most 32 connections; further requests wait for one, and all are answered', async () => {
    const server = await scriptedServer((r) => setTimeout(() => r.socket.write(ACCEPTED), 50));
    const t = transportFor(server.url);
    const answers = await Promise.all(Array.from({ length: 70 }, () => send(t)));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(server.requests).toHaveLength(70);
    expect(server.peakOpen()).toBe(32);
  });

  it('abandons a waiting or running request on abort and on timeout', async () => {
    const server = await scriptedServer(() => undefined); // never answers
    const t = transportFor(server.url);
    const controller = new AbortController();
    const aborted = t.send(Buffer.from('{}'), 5_000, controller.signal);
    await vi.waitFor(() => expect(server.requests).toHaveLength(1)); // running, not waiting to start
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await expect(send(t, '{}', 50)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('after destroy(), fails requests under way and later ones as aborted (not as retryable resets)', async () => {
    const server = await scriptedServer(() => undefined); // never answers
    const t = transportFor(server.url);
    const pending = Array.from({ length: 40 }, () => send(t).catch((e: TransportError) => e.code));
    await vi.waitFor(() => expect(server.requests).toHaveLength(32)); // 32 under way, 8 waiting for a socket
    t.destroy();
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 40 }, () => 'ABORT_ERR'));
    await expect(send(t)).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('an abort after an error status rejects as aborted rather than answering with the status', async () => {
    let headWritten!: () => void;
    const written = new Promise<void>((resolve) => (headWritten = resolve));
    const server = await scriptedServer((r) => r.socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n{"err', () => headWritten()));
    const t = transportFor(server.url);
    const controller = new AbortController();
    const answer = t.send(Buffer.from('{}'), 5_000, controller.signal);
    await written;
    await tick(20); // the head has arrived at the client, the rest of the body never will
    controller.abort();
    await expect(answer).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('holds the process for a request someone waits for, also while it waits for a socket; never for a background one', async () => {
    const server = await scriptedServer((r) => setTimeout(() => r.socket.write(ACCEPTED), 100));
    const t = transportFor(server.url);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const background = Array.from({ length: 32 }, () => t.send(Buffer.from('{}'), 5_000, signal, false));
    expect(timers()).toBe(before);
    const waited = t.send(Buffer.from('{}'), 5_000, signal, true); // all 32 sockets are busy: it waits
    expect(timers()).toBe(before + 1);
    expect((await waited).status).toBe(202);
    await Promise.all(background);
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
      const answer = t.send(Buffer.from('{}'), 5_000, signal, false).catch((e: TransportError) => e.code);
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
    expect(() => transportFor(urlOf(9), { 'x-team': 'a\r\nx-evil: 1' })).toThrow(TypeError);
  });
});
