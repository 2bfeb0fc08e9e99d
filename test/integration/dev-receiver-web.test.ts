import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDevReceiver, type DevReceiver } from '../../src/dev.ts';
import { EventLog, type StoredEvent } from '../../src/receiver/event-log.ts';
import { LiveStream } from '../../src/receiver/live-stream.ts';
import type { RefusalCount } from '../../src/receiver/refusals.ts';
import { webAssets } from '../../src/receiver/web/serve.ts';
import { cleanEnv, spawnNode } from '../support/apps.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { ROOT } from '../support/spawn.ts';

// The receiver's side of `astralog dev`'s web page: the page and its assets (from the built CLI),
// the live stream, the counters, the memory bound, and what it refuses to show or serve.
const KEY = 'web-test-key-0123456789';
let receiver: DevReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const event = (i: number, extra: Partial<StoredEvent> = {}) => ({
  timestamp: new Date(Date.UTC(2026, 10, 28, 10, 0, 0, i)).toISOString(),
  level: 'info',
  message: `event ${i}`,
  service: 'svc',
  ...extra,
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/v1/drain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Reads server-sent messages from a stream, one at a time. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    /** The next message, or undefined when the stream has ended. */
    async next(): Promise<{ event: string; id?: string; data: unknown } | undefined> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map(block.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)] as const));
          if (!fields.has('data')) continue; // retry: and comments
          return { event: fields.get('event') ?? 'message', ...(fields.has('id') ? { id: fields.get('id') } : {}), data: JSON.parse(fields.get('data')!) };
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += value;
      }
    },
    /** Messages up to and including the first `events` one. */
    async untilEvents(): Promise<{ id?: string; data: { first: number; events: StoredEvent[] } }> {
      for (;;) {
        const message = await this.next();
        if (message === undefined) throw new Error('the stream ended');
        if (message.event === 'events') return message as never;
      }
    },
  };
}

function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(`${url}/`, { headers: { host } }, (res: IncomingMessage) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('astralog dev: the web page and its APIs', () => {
  it('the built CLI serves the page and its assets (no external URL), keeps --max-events and counts what it dropped', async () => {
    const cli = spawnNode([join(ROOT, 'dist', 'cli.js'), 'dev', '--port', '0', '--quiet', '--max-events', '5', '--key', KEY], { env: cleanEnv() });
    const line = /Live tail, filters and trace view: open (http:\/\/\S+)\/ in a browser/;
    await cli.waitForLine(line, 5_000, 'stderr');
    const url = line.exec(cli.stderr())![1]!;
    try {
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      expect(html).toContain('<script src="/assets/app.js" defer></script>');
      // The bundle serves what the sources hold, byte for byte in size, and nothing refers to another host.
      for (const asset of webAssets()) {
        const res = await fetch(`${url}${asset.path}`);
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(Buffer.byteLength(text)).toBe(asset.bytes);
        expect(text).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
      }

      expect(await post(url, { events: [0, 1, 2].map((i) => event(i)) })).toBe(202);
      expect(await post(url, { events: [3, 4, 5, 6, 7].map((i) => event(i)) })).toBe(202);
      const stats = (await (await fetch(`${url}/api/stats`)).json()) as { received: number; kept: number; maxEvents: number; dropped: number };
      expect(stats).toMatchObject({ received: 8, kept: 5, maxEvents: 5, dropped: 3 });
      const kept = (await (await fetch(`${url}/api/events`)).json()) as { events: StoredEvent[] };
      expect(kept.events.map((e) => e.message)).toEqual(['event 3', 'event 4', 'event 5', 'event 6', 'event 7']);
    } finally {
      cli.child.kill('SIGINT');
    }
    const ended = await cli.result;
    expect(ended.code).toBe(0);
    expect(ended.stderr).toContain('ASTRALOG_API_KEY=<the --key value>');
    expect(ended.stderr).not.toContain(KEY); // a key given may be a real one: never printed

    const bad = spawnNode([join(ROOT, 'dist', 'cli.js'), 'dev', '--max-events', 'lots'], { env: cleanEnv() });
    const result = await bad.result;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--max-events: expected a whole number of at least 1, got 'lots'");
  });

  it('names the key it expects without printing it when it comes from ASTRALOG_API_KEY; prints only the default one', async () => {
    const secret = 'ast_sk_live_REALKEY0123456789';
    for (const [env, shown] of [
      [{ ASTRALOG_API_KEY: secret }, 'ASTRALOG_API_KEY="$ASTRALOG_API_KEY"'],
      [{}, 'ASTRALOG_API_KEY=default-secret-token'],
    ] as const) {
      const cli = spawnNode([join(ROOT, 'dist', 'cli.js'), 'dev', '--port', '0', '--quiet'], { env: cleanEnv(env) });
      await cli.waitForLine('Events of one trace', 5_000, 'stderr');
      cli.child.kill('SIGINT');
      const result = await cli.result;
      expect(result.stderr).toContain(shown);
      expect(result.stderr).not.toContain(secret);
    }
  });

  it('streams events live (server-sent events), resumes after Last-Event-ID, and close() ends open streams', async () => {
    receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false });
    await post(receiver.url, { events: [event(0), event(1)] });
    const first = await fetch(`${receiver.url}/api/stream`);
    expect(first.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const stream = sseReader(first.body!);
    const hello = await stream.next();
    expect(hello).toMatchObject({ event: 'hello', data: { reset: false, received: 2, maxEvents: 10_000 } });
    const backlog = await stream.untilEvents();
    expect(backlog.data.first).toBe(1);
    expect(backlog.data.events.map((e) => e.message)).toEqual(['event 0', 'event 1']);

    await post(receiver.url, { events: [event(2, { trace_id: 't-1' })] });
    const live = await stream.untilEvents();
    expect(live.id).toBe('3');
    expect(live.data).toMatchObject({ first: 3, events: [{ message: 'event 2', trace_id: 't-1', service: 'svc' }] });

    // A reconnecting EventSource sends the last id it saw: it gets what came after, nothing twice.
    await post(receiver.url, { events: [event(3), event(4)] });
    const resumed = sseReader((await fetch(`${receiver.url}/api/stream`, { headers: { 'last-event-id': '3' } })).body!);
    const after = await resumed.untilEvents();
    expect(after.data.first).toBe(4);
    expect(after.data.events.map((e) => e.message)).toEqual(['event 3', 'event 4']);

    await receiver.close();
    receiver = undefined;
    // Both streams end (their readers see the end, or the socket go), and close() did not hang on them.
    await expect(drain(stream)).resolves.toBe('ended');
    await expect(drain(resumed)).resolves.toBe('ended');
  });

  it('counts refused requests with their reason (401, 400, 413), folds per-event reasons, and never shows a key', async () => {
    receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false });
    const wrongKey = 'hunter2-not-the-key';
    expect(await post(receiver.url, { events: [event(0)] }, { authorization: `Bearer ${wrongKey}` })).toBe(401);
    expect(await post(receiver.url, { events: [event(0)] }, { authorization: '' })).toBe(401);
    expect(await post(receiver.url, '{"events": [')).toBe(400);
    expect(await post(receiver.url, { events: [event(0), event(1, { service: undefined })] })).toBe(400);
    expect(await post(receiver.url, { events: [event(0), event(1), event(2), event(3, { service: undefined })] })).toBe(400);
    expect(await post(receiver.url, { events: [event(0)] })).toBe(202);
    const stats = receiver.stats();
    expect(stats.received).toBe(1);
    expect(stats.refused.total).toBe(5);
    expect(stats.refused.reasons.map((r: RefusalCount) => [r.status, r.reason, r.count])).toEqual([
      [400, 'events[i].service is missing', 2],
      [401, 'unauthorized', 2],
      [400, 'body is not valid JSON', 1],
    ]);
    // Nothing the page can read holds either key.
    const readable = [
      await (await fetch(`${receiver.url}/api/stats`)).text(),
      await (await fetch(`${receiver.url}/api/events`)).text(),
      ...(await Promise.all(webAssets().map(async (a) => (await fetch(`${receiver!.url}${a.path}`)).text()))),
      JSON.stringify(await sseReader((await fetch(`${receiver.url}/api/stream`)).body!).untilEvents()),
    ].join('\n');
    expect(readable).toContain('unauthorized');
    expect(readable).not.toContain(KEY);
    expect(readable).not.toContain(wrongKey);
  });

  it('answers the page and the read API only under a loopback name (no DNS rebinding); ingest is unaffected', async () => {
    receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false });
    expect(await getWithHost(receiver.url, `localhost:${receiver.port}`)).toBe(200);
    expect(await getWithHost(receiver.url, `127.0.0.1:${receiver.port}`)).toBe(200);
    expect(await getWithHost(receiver.url, `attacker.example:${receiver.port}`)).toBe(403);
    expect(await post(receiver.url, { events: [event(0)] })).toBe(202);
  });

  it('keeps at most maxEvents in memory whatever arrives, and counts the dropped ones', async () => {
    receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false, maxEvents: 1000 });
    for (let batch = 0; batch < 40; batch++) {
      expect(await post(receiver.url, { events: Array.from({ length: 500 }, (_, i) => event(batch * 500 + i)) })).toBe(202);
    }
    const kept = receiver.events();
    expect(kept).toHaveLength(1000);
    expect(kept[0]!.message).toBe('event 19000');
    expect(kept[999]!.message).toBe('event 19999');
    expect(receiver.stats()).toMatchObject({ received: 20_000, kept: 1000, dropped: 19_000 });
  });

  it('cuts off a live client that stops reading, so that it cannot grow the receiver’s memory', async () => {
    const log = new EventLog(100);
    const live = new LiveStream(log, () => ({}), 64 * 1024);
    const server: Server = createServer((req, res) => live.open(req, res, null));
    const port = await listenOnLoopback(server);
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => request(`http://127.0.0.1:${port}/`, resolve).on('error', reject).end());
      res.on('error', () => undefined); // the cut-off shows up here as an abort
      res.pause(); // never read again
      const closed = new Promise<void>((resolve) => res.socket.once('close', () => resolve()));
      const big: StoredEvent = { ...event(0), message: 'x'.repeat(256 * 1024), received_at: '' };
      // The kernel's socket buffers take some megabytes first; then the receiver's buffer grows and the client is cut off.
      for (let i = 0; i < 2000 && live.cutOff === 0; i++) {
        live.published(log.push([big]), [big]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(live.cutOff).toBe(1);
      expect(live.clientCount).toBe(0);
      res.resume();
      await closed;
    } finally {
      live.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

async function drain(stream: ReturnType<typeof sseReader>): Promise<'ended'> {
  try {
    while ((await stream.next()) !== undefined);
  } catch {
    // a reset socket ends the stream as well
  }
  return 'ended';
}
