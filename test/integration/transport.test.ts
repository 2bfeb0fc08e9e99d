import dns from 'node:dns';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport, TransportError } from '../../src/exporter/transport.ts';
import { AstralogConfigError } from '../../src/config/errors.ts';
import { headersOption } from '../../src/config/validate.ts';

// HttpTransport against loopback servers that answer with exactly the bytes a test scripts,
// for what a well-behaved HTTP server never does: early answers, closes, malformed heads.

interface ScriptedRequest {
  head: string;
  body: Buffer;
  socket: net.Socket;
  /** Which connection (0, 1, …) carried it. */
  connection: number;
}

interface ScriptedServer {
  url: URL;
  requests: ScriptedRequest[];
  connections: () => number;
  /** Most connections open at the same time. */
  peakOpen: () => number;
  close: () => Promise<void>;
}

/** A server that reads each request (head + Content-Length body) and lets `answer` write raw bytes. */
async function scriptedServer(answer: (request: ScriptedRequest, index: number) => void): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let peak = 0;
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/v1/drain?x=1`),
    requests,
    connections: () => connections,
    peakOpen: () => peak,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that writes `answer` as soon as a request's head arrives, and reads no more of it. */
async function earlyAnswerServer(answer: string): Promise<{ url: URL; sockets: net.Socket[]; close: () => Promise<void> }> {
  const sockets: net.Socket[] = [];
  const tcp = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.pause();
      socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  return {
    url: new URL(`http://127.0.0.1:${(tcp.address() as net.AddressInfo).port}/v1/drain`),
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

const ACCEPTED = 'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"status":"accepted"}';

let server: ScriptedServer | undefined;
let transport: HttpTransport | undefined;
afterEach(async () => {
  transport?.destroy();
  await server?.close();
  server = undefined;
  transport = undefined;
});

function transportFor(s: ScriptedServer, headers: Record<string, string> = {}): HttpTransport {
  transport = new HttpTransport({ url: s.url, apiKey: 'test-key', headers, compression: 'none', ca: undefined });
  return transport;
}

const signal = new AbortController().signal;
const send = (t: HttpTransport, body = '{"events":[]}', timeoutMs = 5_000) => t.send(Buffer.from(body), timeoutMs, signal);

describe('HttpTransport', () => {
  it('writes the request line, the contract headers and the body, and reuses one connection', async () => {
    server = await scriptedServer((r) => r.socket.write(ACCEPTED));
    const t = transportFor(server, { 'x-team': 'payments' });
    for (let i = 0; i < 3; i++) expect(await send(t, `{"events":[${i}]}`)).toEqual({ status: 202, retryAfter: undefined, body: '' });
    expect(server.connections()).toBe(1);
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
    server = await scriptedServer((r, i) => {
      if (i === 0) r.socket.end('HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else if (i === 1) r.socket.write(ACCEPTED, () => setTimeout(() => r.socket.end(), 20));
      else r.socket.write(ACCEPTED);
    });
    const t = transportFor(server);
    expect((await send(t)).status).toBe(202);
    expect((await send(t)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 100)); // the server closes the idle connection meanwhile
    expect((await send(t)).status).toBe(202);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1, 2]);
  });

  it('hands back an error answer with the start of its body, chunked or not', async () => {
    server = await scriptedServer((r, i) => {
      if (i === 0) r.socket.write('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"error":\r\n');
      if (i === 0) setTimeout(() => r.socket.write('C\r\n"saturated"}\r\n0\r\n\r\n'), 20);
      if (i === 1) r.socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: 10000\r\n\r\n${'x'.repeat(10_000)}`);
    });
    const t = transportFor(server);
    expect(await send(t)).toEqual({ status: 429, retryAfter: '3', body: '{"error":"saturated"}' });
    const bad = await send(t);
    expect(bad.status).toBe(400);
    expect(bad.body.length).toBeGreaterThanOrEqual(4096);
    expect(bad.body.length).toBeLessThanOrEqual(4096);
    expect(server.connections()).toBe(1);
  });

  it('resolves a 2xx at its status even while the body never ends, then drops that connection at the timeout', async () => {
    server = await scriptedServer((r) => r.socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{"sta'));
    const t = transportFor(server);
    expect((await send(t, '{}', 300)).status).toBe(202);
    const closed = new Promise((resolve) => server?.requests[0]?.socket.once('close', resolve));
    await closed; // the transport gave up on the body at 300 ms
    expect((await send(t, '{}', 300)).status).toBe(202);
    expect(server.connections()).toBe(2);
  });

  it('does not reuse a connection whose answer came before the whole request was read', async () => {
    const early = await earlyAnswerServer('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n');
    try {
      transport = new HttpTransport({ url: early.url, apiKey: 'k', headers: {}, compression: 'none', ca: undefined });
      const big = 'x'.repeat(4 * 1024 * 1024);
      expect((await send(transport, big)).status).toBe(413);
      expect((await send(transport, big)).status).toBe(413);
      expect(early.sockets).toHaveLength(2); // the second request did not go down the half-written connection
    } finally {
      await early.close();
    }
  });

  it('once a 2xx settles before its request was fully written, stops writing it (the payload may be reused)', async () => {
    // 202 at once, then a body that never ends.
    const early = await earlyAnswerServer('HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n{"sta');
    try {
      transport = new HttpTransport({ url: early.url, apiKey: 'k', headers: {}, compression: 'none', ca: undefined });
      expect((await send(transport, 'x'.repeat(4 * 1024 * 1024), 5_000)).status).toBe(202);
      // Read what the client managed to send: its end comes at once, not at the 5 s timeout.
      const server = early.sockets[0] as net.Socket;
      const started = Date.now();
      const closed = new Promise<number>((resolve) => server.once('close', () => resolve(Date.now() - started)));
      server.resume();
      expect(await closed).toBeLessThan(2_000);
    } finally {
      await early.close();
    }
  });

  it('fails a malformed answer as HPE_INVALID_RESPONSE and a cut one as ECONNRESET, not as a status', async () => {
    server = await scriptedServer((r, i) => {
      if (i === 0) r.socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n');
      else r.socket.end('HTTP/1.1 202 Acc');
    });
    const t = transportFor(server);
    await expect(send(t)).rejects.toMatchObject({ name: 'TransportError', code: 'HPE_INVALID_RESPONSE' });
    await expect(send(t)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('drops a connection that sends more than the answer, without failing the request it answered', async () => {
    server = await scriptedServer((r, i) => r.socket.write(i === 0 ? `${ACCEPTED}HTTP/1.1 200 OK\r\n\r\n` : ACCEPTED));
    const t = transportFor(server);
    expect((await send(t)).status).toBe(202);
    expect((await send(t)).status).toBe(202);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
  });

  it('refuses a connection it cannot make with the socket error code', async () => {
    const closed = await scriptedServer(() => undefined);
    const url = closed.url;
    await closed.close();
    transport = new HttpTransport({ url, apiKey: 'k', headers: {}, compression: 'none', ca: undefined });
    const error = await send(transport).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('ECONNREFUSED');
  });

  it('opens at most 32 connections; further requests wait for one, and all are answered', async () => {
    server = await scriptedServer((r) => setTimeout(() => r.socket.write(ACCEPTED), 50));
    const t = transportFor(server);
    const answers = await Promise.all(Array.from({ length: 70 }, () => send(t)));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(server.requests).toHaveLength(70);
    expect(server.peakOpen()).toBe(32);
  });

  it('abandons a waiting or running request on abort and on timeout', async () => {
    server = await scriptedServer(() => undefined); // never answers
    const t = transportFor(server);
    const controller = new AbortController();
    const aborted = t.send(Buffer.from('{}'), 5_000, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await expect(send(t, '{}', 50)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('after destroy(), fails requests under way and later ones as aborted (not as retryable resets)', async () => {
    server = await scriptedServer(() => undefined); // never answers
    const t = transportFor(server);
    const pending = Array.from({ length: 40 }, () => send(t).catch((e: TransportError) => e.code));
    await new Promise((r) => setTimeout(r, 50));
    t.destroy();
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 40 }, () => 'ABORT_ERR'));
    await expect(send(t)).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('an abort after an error status rejects as aborted rather than answering with the status', async () => {
    server = await scriptedServer((r) => r.socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\n{"err'));
    const t = transportFor(server);
    const controller = new AbortController();
    const answer = t.send(Buffer.from('{}'), 5_000, controller.signal);
    await new Promise((r) => setTimeout(r, 50)); // the head has arrived, the body not
    controller.abort();
    await expect(answer).rejects.toMatchObject({ code: 'ABORT_ERR' });
  });

  it('holds the process for a request someone waits for, also while it waits for a socket; never for a background one', async () => {
    server = await scriptedServer((r) => setTimeout(() => r.socket.write(ACCEPTED), 100));
    const t = transportFor(server);
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
      const accepted: net.Socket[] = [];
      const tcp = net.createServer((socket) => {
        socket.unref();
        accepted.push(socket);
      });
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
      try {
        resolveMultiTo('127.0.0.1');
        const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
        await new Promise((r) => setTimeout(r, 50)); // sockets of earlier tests finish closing
        const before = sockets();
        const url = new URL(`http://multi.test:${(tcp.address() as net.AddressInfo).port}/v1/drain`);
        transport = new HttpTransport({ url, apiKey: 'k', headers: {}, compression: 'none', ca: undefined });
        const answer = transport.send(Buffer.from('{}'), 5_000, signal, false).catch((e: TransportError) => e.code);
        for (let i = 0; i < 100 && accepted.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(accepted).toHaveLength(1);
        await new Promise((r) => setTimeout(r, 20));
        expect(sockets()).toBe(before);
        transport.destroy();
        expect(await answer).toBe('ABORT_ERR');
      } finally {
        for (const socket of accepted) socket.destroy();
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      }
    });

    it('says which addresses refused when all do', async () => {
      const closed = await scriptedServer(() => undefined);
      const port = closed.url.port;
      await closed.close();
      resolveMultiTo('127.0.0.1');
      transport = new HttpTransport({ url: new URL(`http://multi.test:${port}/v1/drain`), apiKey: 'k', headers: {}, compression: 'none', ca: undefined });
      const error = (await send(transport).catch((e: unknown) => e)) as TransportError;
      expect(error.code).toBe('ECONNREFUSED');
      expect(error.message).toMatch(/127\.0\.0\.2.*127\.0\.0\.1/);
    });
  });

  it('refuses header values that cannot be written into an HTTP head', () => {
    expect(() => headersOption('headers', { 'x-team': 'caf\u00e9' })).not.toThrow(); // Latin-1 is fine
    expect(() => headersOption('headers', { 'x-team': 'team \u2603' })).toThrow(AstralogConfigError);
    expect(() => headersOption('headers', { 'x-team': 'a\r\nx-evil: 1' })).toThrow(AstralogConfigError);
    const url = new URL('http://127.0.0.1:9/v1/drain');
    expect(() => new HttpTransport({ url, apiKey: 'k', headers: { 'x-team': 'a\r\nx-evil: 1' }, compression: 'none', ca: undefined })).toThrow(TypeError);
  });
});
