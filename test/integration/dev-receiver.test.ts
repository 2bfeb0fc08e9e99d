import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createAstralog } from '../../src/index.ts';
import { startDevReceiver, type DevReceiver } from '../../src/dev.ts';
import { cleanEnv, spawnNode } from '../support/apps.ts';
import { ROOT } from '../support/spawn.ts';

const KEY = 'default-secret-token';
let receiver: DevReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function post(body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${receiver!.url}/v1/drain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: await res.json() };
}

const EVENT = { timestamp: '2026-11-28T10:00:00.000Z', level: 'info', message: 'hi', service: 'svc', trace_id: 't-1', metadata: { a: 1 } };

describe('astralog dev receiver', () => {
  it('answers the contract: 202 accepted, 401 wrong key, 400 malformed or incomplete, gzip accepted', async () => {
    const lines: string[] = [];
    receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: (l) => lines.push(l) });
    expect(await post(JSON.stringify({ events: [EVENT] }))).toEqual({ status: 202, body: { status: 'accepted' } });
    expect(await post(JSON.stringify({ events: [EVENT] }), { authorization: 'Bearer wrong' })).toEqual({ status: 401, body: { error: 'unauthorized' } });
    expect(await post('{"events": [ nope')).toEqual({ status: 400, body: { error: 'body is not valid JSON' } });
    expect(await post(JSON.stringify({ events: [{ ...EVENT, service: undefined }] }))).toEqual({ status: 400, body: { error: 'events[0].service is missing' } });
    expect(await post(JSON.stringify({ logs: [EVENT] }))).toEqual({ status: 400, body: { error: 'body must hold an "events" array (found "logs", the legacy name)' } });
    expect(await post(gzipSync(JSON.stringify({ events: [{ ...EVENT, message: 'zipped' }] })), { 'content-encoding': 'gzip' })).toEqual({ status: 202, body: { status: 'accepted' } });
    expect(await post(Buffer.from('not gzip'), { 'content-encoding': 'gzip' })).toMatchObject({ status: 400 });
    expect(receiver.events().map((e) => e.message)).toEqual(['hi', 'zipped']);
    expect(lines[0]).toBe('10:00:00.000 INFO  svc trace=t-1 hi {"a":1}');
    expect((await fetch(`${receiver.url}/health`)).status).toBe(200);
    expect((await fetch(`${receiver.url}/nope`)).status).toBe(404);
  });

  it('pulls the events of one trace across services, and takes what the SDK sends', async () => {
    receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false });
    const gateway = createAstralog({ apiKey: KEY, endpoint: receiver.url, service: 'gateway' });
    const api = createAstralog({ apiKey: KEY, endpoint: receiver.url, service: 'api' });
    gateway.info('in', { trace_id: 'trace-a' });
    api.info('handled', { trace_id: 'trace-a' });
    api.info('other', { trace_id: 'trace-b' });
    await Promise.all([gateway.close(), api.close()]);
    const res = (await (await fetch(`${receiver.url}/api/events?trace_id=trace-a`)).json()) as { events: Array<{ service: string; message: string }> };
    expect(res.events.map((e) => `${e.service}:${e.message}`).sort()).toEqual(['api:handled', 'gateway:in']);
  });

  it('writes NDJSON with --out, and says clearly when the port is taken (the CLI)', async () => {
    receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false });
    const taken = spawnNode([join(ROOT, 'dist', 'cli.js'), 'dev', '--port', String(receiver.port)], { env: cleanEnv() });
    const result = await taken.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${receiver.port} on 127.0.0.1 is already in use`);

    const out = join(tmpdir(), `astralog-dev-${process.pid}.ndjson`);
    rmSync(out, { force: true });
    const cli = spawnNode([join(ROOT, 'dist', 'cli.js'), 'dev', '--port', '0', '--out', out, '--key', 'k2'], { env: cleanEnv() });
    const url = await waitForUrl(cli);
    const res = await fetch(`${url}/v1/drain`, {
      method: 'POST',
      headers: { authorization: 'Bearer k2', 'content-type': 'application/json' },
      body: JSON.stringify({ events: [EVENT] }),
    });
    expect(res.status).toBe(202);
    // No wait: the event is printed and its file write queued before the 202, and close() awaits the write.
    cli.child.kill('SIGINT');
    expect((await cli.result).code).toBe(0);
    expect(cli.stdout()).toContain('INFO  svc trace=t-1 hi');
    expect(JSON.parse(readFileSync(out, 'utf8').trim())).toEqual(EVENT);
    rmSync(out, { force: true });
  });
});

async function waitForUrl(cli: ReturnType<typeof spawnNode>): Promise<string> {
  const line = /Astralog dev receiver on (http:\/\/\S+)\s/; // up to the line's end: the whole URL
  await cli.waitForLine(line, 5_000, 'stderr');
  return line.exec(cli.stderr())?.[1] as string;
}
