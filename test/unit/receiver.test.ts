import { afterEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { everyNth, sequence, startReceiver } from '../support/receiver.ts';
import type { Receiver, ReceiverOptions } from '../support/receiver.ts';

const event = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  timestamp: '2026-10-24T14:32:05.123Z',
  level: 'info',
  message: `message ${i}`,
  service: 'svc',
  ...extra,
});

let receiver: Receiver | undefined;

async function start(options?: ReceiverOptions): Promise<Receiver> {
  receiver = await startReceiver(options);
  return receiver;
}

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

interface PostOptions {
  key?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  path?: string;
}

function post(r: Receiver, body: string | Uint8Array, opts: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  const key = opts.key === undefined ? 'test-key' : opts.key;
  if (key !== null) headers['authorization'] = `Bearer ${key}`;
  return fetch(`${r.url}${opts.path ?? '/v1/drain'}`, { method: 'POST', headers, body, signal: opts.signal });
}

const postEvents = (r: Receiver, events: unknown[], opts?: PostOptions): Promise<Response> =>
  post(r, JSON.stringify({ events }), opts);

/** node:http client, for errors fetch would wrap and for socket-level checks. */
function rawPost(
  r: Receiver,
  body: Buffer,
  opts: { agent?: Agent; chunkSize?: number } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${r.url}/v1/drain`,
      {
        method: 'POST',
        agent: opts.agent,
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer test-key',
          'content-length': body.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            reusedSocket: req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
    const size = opts.chunkSize ?? body.length;
    const writeFrom = (offset: number): void => {
      if (offset >= body.length) {
        req.end();
        return;
      }
      if (req.destroyed) return;
      const ok = req.write(body.subarray(offset, offset + size));
      if (ok) setImmediate(() => writeFrom(offset + size));
      else req.once('drain', () => writeFrom(offset + size));
    };
    writeFrom(0);
  });
}

describe('receiver: contract', () => {
  it('accepts a valid batch with 202 and records request and events', async () => {
    const r = await start();
    expect(r.url).toBe(`http://127.0.0.1:${r.port}`);
    const events = [event(1), event(2, { trace_id: 'abc', project_id: 'p', metadata: { a: 1 } })];
    const res = await postEvents(r, events, { path: '/v1/drain?x=1' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted' });
    expect(r.accepted).toEqual(events);
    expect(r.requests).toHaveLength(1);
    const rec = r.requests[0]!;
    expect(rec).toMatchObject({ index: 0, method: 'POST', path: '/v1/drain?x=1', status: 202, events });
    expect(rec.headers['authorization']).toBe('Bearer test-key');
    expect(rec.json).toEqual({ events });
    expect(rec.bodyText).toBe(JSON.stringify({ events }));
    expect(rec.rawBody.toString('utf8')).toBe(rec.bodyText);
    expect(rec.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('accept can answer 200, and duplicates show up in accepted', async () => {
    const r = await start({ behaviour: () => ({ kind: 'accept', status: 200 }) });
    const res1 = await postEvents(r, [event(1)]);
    const res2 = await postEvents(r, [event(1)]);
    expect([res1.status, res2.status]).toEqual([200, 200]);
    expect(r.accepted).toEqual([event(1), event(1)]);
  });

  it('answers 401 to a wrong or missing key, records it, accepts nothing', async () => {
    const r = await start({ apiKey: 'ast_sk_live_secret' });
    const wrong = await postEvents(r, [event(1)], { key: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'unauthorized' });
    const missing = await postEvents(r, [event(1)], { key: null });
    expect(missing.status).toBe(401);
    expect(r.requests.map((q) => q.status)).toEqual([401, 401]);
    expect(r.requests[0]!.events).toEqual([event(1)]); // body still recorded
    expect(r.accepted).toEqual([]);

    r.setApiKey('rotated');
    expect((await postEvents(r, [event(1)], { key: 'ast_sk_live_secret' })).status).toBe(401);
    expect((await postEvents(r, [event(1)], { key: 'rotated' })).status).toBe(202);
  });

  it('checks auth before anything else', async () => {
    const r = await start();
    const res = await post(r, 'not json', { key: 'bad', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(401);
  });

  it('answers 400 to a non-JSON content-type', async () => {
    const r = await start();
    const res = await post(r, JSON.stringify({ events: [event(1)] }), { headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'content-type must be application/json' });
    const withCharset = await post(r, JSON.stringify({ events: [event(1)] }), {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(withCharset.status).toBe(202);
  });

  it('answers 400 to malformed JSON', async () => {
    const r = await start();
    const res = await post(r, '{"events": [');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body is not valid JSON' });
    expect(r.requests[0]).toMatchObject({ status: 400, json: undefined, events: [], bodyText: '{"events": [' });
    expect(r.accepted).toEqual([]);
  });

  it.each([
    ['a missing field', { events: [event(1), { timestamp: 't', level: 'info', message: 'm' }] }, 'events[1].service is missing'],
    ['a non-string field', { events: [event(1, { level: 3 })] }, 'events[0].level must be a string'],
    ['a non-string trace_id', { events: [event(1, { trace_id: null })] }, 'events[0].trace_id must be a string when present'],
    ['an array metadata', { events: [event(1, { metadata: [] })] }, 'events[0].metadata must be an object when present'],
    ['a non-object event', { events: ['x'] }, 'events[0] must be an object'],
    ['the legacy "logs" name', { logs: [event(1)] }, 'body must hold an "events" array (found "logs", the legacy name)'],
    ['a top-level array', [event(1)], 'body must be a JSON object'],
  ])('answers 400 to %s and accepts nothing', async (_name, body, error) => {
    const r = await start();
    const res = await post(r, JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error });
    expect(r.accepted).toEqual([]);
    expect(r.requests[0]!.status).toBe(400);
  });

  it('accepts a gzip body and records both raw and decoded forms', async () => {
    const r = await start();
    const events = [event(1), event(2)];
    const raw = gzipSync(JSON.stringify({ events }));
    const res = await post(r, raw, { headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(202);
    expect(r.accepted).toEqual(events);
    const rec = r.requests[0]!;
    expect(rec.rawBody.equals(raw)).toBe(true);
    expect(rec.bodyText).toBe(JSON.stringify({ events }));
  });

  it('answers 400 to a gzip body that does not decode', async () => {
    const r = await start();
    const res = await post(r, JSON.stringify({ events: [event(1)] }), { headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not valid gzip/);
    expect(r.accepted).toEqual([]);
  });

  it('validate: false skips every check and lets the behaviour decide', async () => {
    const r = await start({ validate: false });
    const res = await post(r, 'whatever', { key: null, headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(202);
    expect(r.requests[0]).toMatchObject({ status: 202, json: undefined, events: [] });
  });

  it('serves /health and 404s everything else (unrecorded)', async () => {
    const r = await start();
    const health = await fetch(`${r.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${r.url}/v1/drain`)).status).toBe(404);
    expect((await post(r, '{}', { path: '/v1/other' })).status).toBe(404);
    expect((await post(r, '{}', { path: '//v1/drain' })).status).toBe(404);
    expect(r.requests).toEqual([]);
  });

  it('keeps connections alive across requests', async () => {
    const r = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = Buffer.from(JSON.stringify({ events: [event(1)] }));
      const a = await rawPost(r, body, { agent });
      const b = await rawPost(r, body, { agent });
      const c = await rawPost(r, body, { agent });
      expect([a.status, b.status, c.status]).toEqual([202, 202, 202]);
      expect([a.reusedSocket, b.reusedSocket, c.reusedSocket]).toEqual([false, true, true]);
      expect(r.openConnections()).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('receiver: misbehaviour', () => {
  it('sequence(): 503 then accept', async () => {
    const r = await start({ behaviour: sequence({ kind: 'status', status: 503 }) });
    const first = await postEvents(r, [event(1)]);
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ error: 'Service Unavailable' });
    const second = await postEvents(r, [event(1)]);
    expect(second.status).toBe(202);
    expect(r.requests.map((q) => q.status)).toEqual([503, 202]);
    expect(r.accepted).toEqual([event(1)]);
  });

  it('status: custom headers and body (429 + Retry-After), default 429 body', async () => {
    const r = await start({
      behaviour: sequence(
        { kind: 'status', status: 429, headers: { 'Retry-After': '2' } },
        { kind: 'status', status: 413, headers: { 'content-type': 'text/plain' }, body: 'too big' },
      ),
    });
    const first = await postEvents(r, [event(1)]);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(await first.json()).toEqual({ error: 'server saturated', code: 'backpressure_test' });
    const second = await postEvents(r, [event(1)]);
    expect(second.status).toBe(413);
    expect(second.headers.get('content-type')).toBe('text/plain');
    expect(await second.text()).toBe('too big');
    expect(r.accepted).toEqual([]);
  });

  it('a behaviour function can inspect the body (413 above a size)', async () => {
    const r = await start({
      behaviour: (req) => (req.events.length > 2 ? { kind: 'status', status: 413 } : { kind: 'accept' }),
    });
    expect((await postEvents(r, [event(1), event(2), event(3)])).status).toBe(413);
    expect((await postEvents(r, [event(1), event(2)])).status).toBe(202);
  });

  it('reset: the client gets ECONNRESET and the request is recorded', async () => {
    const r = await start({ behaviour: () => ({ kind: 'reset' }) });
    await expect(postEvents(r, [event(1)])).rejects.toMatchObject({
      name: 'TypeError', // fetch failed
      cause: { code: 'ECONNRESET' },
    });
    await expect(rawPost(r, Buffer.from(JSON.stringify({ events: [event(1)] })))).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(r.requests.map((q) => q.status)).toEqual(['reset', 'reset']);
    expect(r.requests[0]!.events).toEqual([event(1)]);
    expect(r.accepted).toEqual([]);
  });

  it('resetMidBody: the socket dies while the client is still uploading', async () => {
    const r = await start({ behaviour: sequence({ kind: 'resetMidBody' }) });
    const big = Buffer.from(JSON.stringify({ events: [event(1, { metadata: { pad: 'x'.repeat(8 << 20) } })] }));
    const err = await rawPost(r, big, { chunkSize: 64 << 10 }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toMatch(/^(ECONNRESET|EPIPE)$/);
    await r.waitForRequests(1);
    expect(r.requests[0]!.status).toBe('reset');
    expect(r.requests[0]!.rawBody.length).toBeGreaterThan(0);
    expect(r.requests[0]!.rawBody.length).toBeLessThan(big.length);
    // the next request is accepted
    expect((await postEvents(r, [event(2)])).status).toBe(202);
    expect(r.accepted).toEqual([event(2)]);
  });

  it('a client that hangs up mid-upload is recorded as reset', async () => {
    const r = await start();
    const req = request(`${r.url}/v1/drain`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-key', 'content-type': 'application/json', 'content-length': 1000 },
    });
    req.on('error', () => {});
    req.write('{"events":[');
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    await r.waitForRequests(1);
    expect(r.requests[0]).toMatchObject({ index: 0, status: 'reset', bodyText: '{"events":[' });
    expect(r.accepted).toEqual([]);
  });

  it('blackhole: the client times out, the socket stays open, close() is prompt', async () => {
    const r = await start({ behaviour: () => ({ kind: 'blackhole' }) });
    const t0 = Date.now();
    await expect(postEvents(r, [event(1)], { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(r.requests.map((q) => q.status)).toEqual(['blackhole']);
    expect(r.accepted).toEqual([]);

    // a node:http client that does not give up keeps the socket open until close()
    const pending = rawPost(r, Buffer.from(JSON.stringify({ events: [event(2)] }))).catch((e: unknown) => e);
    await r.waitForRequests(2);
    expect(r.openConnections()).toBeGreaterThanOrEqual(1);

    const t1 = Date.now();
    await r.close();
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(r.openConnections()).toBe(0);
    expect(await pending).toBeInstanceOf(Error);
    await r.close(); // idempotent
  });

  it('everyNth(3, 500): requests 3, 6, ... fail, the rest accept', async () => {
    const r = await start({ behaviour: everyNth(3, { kind: 'status', status: 500 }) });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await postEvents(r, [event(i)])).status);
    expect(statuses).toEqual([202, 202, 500, 202, 202, 500, 202]);
    expect(r.accepted).toEqual([0, 1, 3, 4, 6].map((i) => event(i)));
    expect(() => everyNth(0, { kind: 'reset' })).toThrow(RangeError);
  });

  it('delay: answers after ms; events are committed when the answer is due', async () => {
    const r = await start({ behaviour: sequence({ kind: 'delay', ms: 200, then: { kind: 'accept' } }) });
    const t0 = Date.now();
    const res = postEvents(r, [event(1)]);
    await r.waitForRequests(1);
    expect(r.requests[0]!.status).toBe(202);
    expect(r.accepted).toEqual([]);
    expect((await res).status).toBe(202);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(r.accepted).toEqual([event(1)]);
  });

  it('drip: headers at once, body one byte at a time', async () => {
    const r = await start({ behaviour: () => ({ kind: 'drip', ms: 10, then: { kind: 'accept' } }) });
    const t0 = Date.now();
    const res = await postEvents(r, [event(1)]);
    const tHeaders = Date.now() - t0;
    expect(res.status).toBe(202);
    expect(r.accepted).toEqual([event(1)]);
    expect(await res.json()).toEqual({ status: 'accepted' });
    const tBody = Date.now() - t0;
    // 21 bytes at 10 ms each
    expect(tBody).toBeGreaterThanOrEqual(150);
    expect(tHeaders).toBeLessThan(tBody - 100);
  });

  it('a behaviour function that throws or returns garbage yields 500', async () => {
    const r = await start({
      behaviour: sequence({ kind: 'nope' } as never),
    });
    const origError = console.error;
    console.error = () => {};
    try {
      const res = await postEvents(r, [event(1)]);
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: string }).error).toMatch(/unknown kind/);
    } finally {
      console.error = origError;
    }
    expect(r.requests[0]!.status).toBe(500);
  });
});

describe('receiver: waiting', () => {
  it('waitForEvents resolves once enough events are accepted', async () => {
    const r = await start();
    const waiting = r.waitForEvents(3, 2000);
    await postEvents(r, [event(1), event(2)]);
    await postEvents(r, [event(3)]);
    await expect(waiting).resolves.toBeUndefined();
  });

  it('waitForEvents / waitForRequests reject with a descriptive message on timeout', async () => {
    const r = await start({ behaviour: sequence({ kind: 'status', status: 503 }) });
    await postEvents(r, [event(1)]);
    await expect(r.waitForEvents(1, 50)).rejects.toThrow(
      'waitForEvents(1) timed out after 50 ms: 0 event(s) accepted from 1 request(s) [statuses: 503]',
    );
    await expect(r.waitForRequests(2, 50)).rejects.toThrow(/waitForRequests\(2\) timed out after 50 ms/);
  });
});
