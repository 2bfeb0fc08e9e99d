import { spawn } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanEnv } from '../support/apps.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/faults.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { startProxy, type TestProxy } from '../support/proxy.ts';
import { ROOT } from '../support/spawn.ts';

// Whether a request keeps the process alive, asked of a real process: the child sends requests
// that are never answered (every server and the proxy live here, in the test's process), holds
// itself open with stdin until they have all arrived, then lets go. Background requests must not
// keep it alive; a request somebody waits for must, until it settles.

const TRANSPORT = pathToFileURL(join(ROOT, 'src', 'exporter', 'transport.ts')).href;
// Node 22.15 runs TypeScript sources only when asked; 23.6 and later do by default.
const STRIP_TYPES = Number(process.versions.node.split('.')[0]) < 23 ? ['--experimental-strip-types', '--no-warnings'] : [];

const CHILD = `
const say = (line) => process.stdout.write(line + '\\n');
process.stdin.on('end', () => say('RELEASED'));
process.stdin.resume(); // holds the process until the test has seen every request arrive
const { HttpTransport } = await import(process.env.TRANSPORT);
const cfg = JSON.parse(process.env.CHILD_CONFIG);
const t = new HttpTransport({ url: cfg.url, apiKey: 'k', headers: {}, compression: 'none', ca: cfg.ca, proxy: cfg.proxy });
const signal = new AbortController().signal;
// The first request is answered: the later ones reuse its idle connection, which Node's agent refs again.
say('FIRST ' + (await t.send(Buffer.from('{}'), { timeoutMs: 5000, signal, keepProcessAlive: false })).status);
await new Promise((resolve) => setImmediate(resolve));
for (let i = 0; i < cfg.background; i++) {
  t.send(Buffer.from('{}'), { timeoutMs: 60000, signal, keepProcessAlive: false }).then((a) => say('SETTLED ' + a.status), (e) => say('SETTLED ' + e.code));
}
if (cfg.waited) t.send(Buffer.from('{}'), { timeoutMs: 1000, signal }).then((a) => say('WAITED ' + a.status), (e) => say('WAITED ' + e.code));
process.on('exit', () => say('EXIT'));
`;

interface BlackHole {
  url: string;
  arrived: () => number;
  close: () => Promise<void>;
}

/** An http(s) server that answers the first request (202) and never answers the others. */
async function blackHole(tls?: SelfSignedCert, host = '127.0.0.1'): Promise<BlackHole> {
  let arrived = 0;
  const sockets = new Set<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (arrived++ > 0) return;
    req.resume();
    res.writeHead(202, { 'content-length': '0' }).end();
  };
  const server: Server = tls === undefined ? createHttpServer(onRequest) : createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${host}:${port}/v1/drain`,
    arrived: () => arrived,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Runs the child; closes its stdin once `ready()` holds. Resolves with its stdout lines when it has exited. */
async function runChild(config: Record<string, unknown>, ready: () => boolean): Promise<string[]> {
  const env = cleanEnv({ TRANSPORT, CHILD_CONFIG: JSON.stringify(config) });
  const child = spawn(process.execPath, [...STRIP_TYPES, '--input-type=module', '-e', CHILD], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    await vi.waitFor(() => expect(ready(), `requests arrived; child stderr: ${stderr}`).toBe(true), { timeout: 10_000, interval: 20 });
    child.stdin.end();
    await exited;
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
  expect(stderr).toBe('');
  return stdout.trim().split('\n');
}

describe('HttpTransport and the life of the process', () => {
  let tls: SelfSignedCert;
  let proxy: TestProxy;
  const holes: BlackHole[] = [];
  beforeAll(async () => {
    tls = makeSelfSignedCert(['DNS:ingest.test']);
    proxy = await startProxy();
  });
  afterAll(async () => {
    await proxy.close();
    await Promise.all(holes.map((h) => h.close()));
  });

  const routes = {
    direct: async () => {
      const hole = await blackHole();
      holes.push(hole);
      return { hole, config: { url: hole.url } };
    },
    // http endpoint: the proxy forwards each request (absolute-form)
    'through a forwarding proxy': async () => {
      const hole = await blackHole(undefined, 'ingest.test');
      holes.push(hole);
      return { hole, config: { url: hole.url, proxy: proxy.url } };
    },
    // https endpoint: a CONNECT tunnel, TLS inside it
    'through a CONNECT tunnel, TLS inside': async () => {
      const hole = await blackHole(tls, 'ingest.test');
      holes.push(hole);
      return { hole, config: { url: hole.url, proxy: proxy.url, ca: tls.cert } };
    },
  };

  describe.each(Object.keys(routes) as (keyof typeof routes)[])('%s', (route) => {
    it('background requests under way do not keep the process alive', async () => {
      const { hole, config } = await routes[route]();
      const lines = await runChild({ ...config, background: 4 }, () => hole.arrived() === 5);
      expect(lines).toEqual(['FIRST 202', 'RELEASED', 'EXIT']); // ended with four requests unanswered: none settled
    });

    it('a request somebody waits for keeps it alive until it settles', async () => {
      const { hole, config } = await routes[route]();
      const lines = await runChild({ ...config, background: 2, waited: true }, () => hole.arrived() === 4);
      expect(lines).toContain('WAITED ETIMEDOUT');
      expect(lines.at(-1)).toBe('EXIT');
      expect(lines.filter((l) => l.startsWith('SETTLED'))).toEqual([]);
    });
  });
});
