import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, ownLines, spawnNode, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { DIST_ESM, type ProcessResult } from '../support/spawn.ts';

// Every promise with a deadline settles by it, whatever the endpoint does, in real processes:
// flush(t) and close() of the client, and register's SIGTERM path. The faults: nothing listening,
// a name that does not resolve (without any real lookup), a black hole that takes the request and
// never answers. A deadline that breaks shows up as seconds (exportTimeoutMs is 20 s here), so
// the bound below leaves room for a loaded machine.
const SLACK_MS = 1_500;
const EXPORT_TIMEOUT_MS = 20_000;

/** Replaces dns.lookup before the package loads: every name fails at once, nothing is looked up for real. */
const NO_DNS = `
const dns = require('node:dns');
dns.lookup = (host, options, callback) => {
  const done = typeof options === 'function' ? options : callback;
  process.nextTick(done, Object.assign(new Error('getaddrinfo ENOTFOUND ' + host), { code: 'ENOTFOUND', hostname: host }));
};
`;

/** Logs, then awaits flush(FLUSH_MS) at the top level and close(), printing how long each took. */
const CLIENT_APP = `
const { createAstralog } = await import(process.env.DIST);
const log = createAstralog({ apiKey: process.env.KEY, endpoint: process.env.ENDPOINT, allowInsecureHttp: true,
  exportTimeoutMs: ${EXPORT_TIMEOUT_MS}, shutdownTimeoutMs: Number(process.env.SHUTDOWN_MS), flushIntervalMs: 50 });
for (let i = 0; i < 20; i++) log.info('event ' + i);
await new Promise((resolve) => setTimeout(resolve, 200)); // an export is under way
let started = Date.now();
await log.flush(Number(process.env.FLUSH_MS));
console.log('FLUSH ' + (Date.now() - started));
started = Date.now();
await log.close();
console.log('CLOSE ' + (Date.now() - started));
const s = log.stats();
console.log('ACCOUNTED ' + (s.emitted === s.exported + Object.values(s.dropped).reduce((a, b) => a + b, 0) + s.queued + s.inFlight));
`;

/** Logs, awaits flush(FLUSH_MS) and then has nothing left to do: the process ends unless something holds it. */
const FLUSH_ONLY_APP = `
const { createAstralog } = await import(process.env.DIST);
const log = createAstralog({ apiKey: process.env.KEY, endpoint: process.env.ENDPOINT, allowInsecureHttp: true,
  exportTimeoutMs: ${EXPORT_TIMEOUT_MS}, flushIntervalMs: 50 });
for (let i = 0; i < 20; i++) log.info('event ' + i);
await new Promise((resolve) => setTimeout(resolve, 200)); // an export is under way
await log.flush(Number(process.env.FLUSH_MS));
const flushed = Date.now();
process.on('exit', () => console.log('EXIT AFTER ' + (Date.now() - flushed)));
`;

/** Logs steadily until SIGTERM (no handler of its own). */
const SIGTERM_APP = `
setInterval(() => console.log('working'), 20);
setTimeout(() => process.stdout.write('ready\\n'), 300);
`;

interface BlackHole {
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}

/** Takes connections and reads requests, never answers. */
async function startBlackHole(): Promise<BlackHole> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.includes('POST ')) requests++;
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function refusingUrl(): Promise<string> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

let apps: AppDir;
let hole: BlackHole;
beforeAll(async () => {
  apps = makeAppDir();
  apps.write('client.mjs', CLIENT_APP);
  apps.write('flush-only.mjs', FLUSH_ONLY_APP);
  apps.write('sigterm.mjs', SIGTERM_APP);
  apps.write('no-dns.cjs', NO_DNS);
  hole = await startBlackHole();
});
afterAll(async () => {
  apps?.remove();
  await hole?.close();
});

const describeRun = (r: ProcessResult) => `code=${r.code} signal=${r.signal} (${r.durationMs} ms)\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
const tagged = (r: ProcessResult, tag: string) => Number(new RegExp(`^${tag} (\\S+)$`, 'm').exec(r.stdout)?.[1]);

/** Each fault, and what the drop line at the end says of it (a black hole fails no attempt: it never answers). */
const faults: Record<string, () => Promise<{ endpoint: string; preload: string[]; said: RegExp | undefined }>> = {
  'nothing listening': async () => ({ endpoint: await refusingUrl(), preload: [], said: /The last attempt to send failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\./ }),
  'a name that does not resolve': async () => ({
    endpoint: 'http://astralog.invalid:8080',
    preload: ['--require', `${apps.dir}/no-dns.cjs`],
    said: /The last attempt to send failed: getaddrinfo ENOTFOUND astralog\.invalid\./,
  }),
  'a black hole': async () => ({ endpoint: hole.url, preload: [], said: undefined }),
};

/** Register's environment for `endpoint`: a 500 ms shutdown budget, exports that would wait 20 s. */
const registerEnv = (endpoint: string, extra: Record<string, string>) =>
  cleanEnv({
    ASTRALOG_API_KEY: TEST_KEY,
    ASTRALOG_ENDPOINT: endpoint,
    ASTRALOG_ALLOW_INSECURE_HTTP: 'true',
    ASTRALOG_EXPORT_TIMEOUT_MS: String(EXPORT_TIMEOUT_MS),
    ASTRALOG_SHUTDOWN_TIMEOUT_MS: '500',
    ...extra,
  });

describe.each(Object.keys(faults))('%s', (fault) => {
  it('flush(500) and close() with shutdownTimeoutMs 500 each settle by their deadline; a top-level await of them completes', async () => {
    const { endpoint, preload } = await faults[fault]!();
    const env = cleanEnv({ DIST: DIST_ESM, KEY: TEST_KEY, ENDPOINT: endpoint, FLUSH_MS: '500', SHUTDOWN_MS: '500' });
    const r = await spawnNode([...preload, `${apps.dir}/client.mjs`], { env, timeoutMs: 30_000 }).result;
    expect(r.code, describeRun(r)).toBe(0); // 13 would be an unsettled top-level await
    expect(tagged(r, 'FLUSH'), describeRun(r)).toBeLessThan(500 + SLACK_MS);
    expect(tagged(r, 'FLUSH')).toBeGreaterThanOrEqual(490);
    expect(tagged(r, 'CLOSE'), describeRun(r)).toBeLessThan(500 + SLACK_MS);
    expect(r.stdout).toContain('ACCOUNTED true');
  });

  it('flush(500) keeps the process alive until it settles, and no longer: nothing of the flush outlives its deadline', async () => {
    const { endpoint, preload } = await faults[fault]!();
    const env = cleanEnv({ DIST: DIST_ESM, KEY: TEST_KEY, ENDPOINT: endpoint, FLUSH_MS: '500' });
    const r = await spawnNode([...preload, `${apps.dir}/flush-only.mjs`], { env, timeoutMs: 30_000 }).result;
    expect(r.code, describeRun(r)).toBe(0);
    // Held on by the exporter's own flush, the process would live on for up to exportTimeoutMs (20 s).
    expect(tagged(r, 'EXIT AFTER'), describeRun(r)).toBeLessThan(SLACK_MS);
  });

  it('register: SIGTERM ends the process by that signal within ASTRALOG_SHUTDOWN_TIMEOUT_MS, an export under way or not', async () => {
    const { endpoint, preload, said } = await faults[fault]!();
    const env = registerEnv(endpoint, { ASTRALOG_FLUSH_INTERVAL_MS: '50' });
    const before = hole.requests();
    const node = spawnNode([...preload, '--import', '@astralog/otel/register', `${apps.dir}/sigterm.mjs`], { env, timeoutMs: 30_000 });
    await node.waitForLine('ready');
    if (fault === 'a black hole') {
      // wait until an export is under way, stuck on the black hole
      for (let waited = 0; hole.requests() === before && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(hole.requests()).toBeGreaterThan(before);
    }
    const signalled = Date.now();
    node.child.kill('SIGTERM');
    const r = await node.result;
    const tookMs = Date.now() - signalled;
    expect({ code: r.code, signal: r.signal }, describeRun(r)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(tookMs, describeRun(r)).toBeLessThan(500 + SLACK_MS);
    // What the signal's flush could not send is lost with the process: said, once, with why sending failed.
    const dropLines = ownLines(r.stderr).filter((l) => /dropped \d+ log record/.test(l));
    expect(dropLines, describeRun(r)).toHaveLength(1);
    if (said === undefined) expect(dropLines[0]).not.toContain('The last attempt to send failed');
    else expect(dropLines[0]).toMatch(said);
  });

  it('register: a natural exit waits at most ASTRALOG_SHUTDOWN_TIMEOUT_MS, keeps the exit code, and the drop line says why sending failed', async () => {
    const { endpoint, preload, said } = await faults[fault]!();
    const env = registerEnv(endpoint, { ASTRALOG_QUIET: 'true' });
    const r = await spawnNode([...preload, '--import', '@astralog/otel/register', apps.write('natural.mjs', "console.log('one line'); process.exitCode = 3;\n")], {
      env,
      timeoutMs: 30_000,
    }).result;
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.durationMs, describeRun(r)).toBeLessThan(500 + 2 * SLACK_MS); // node's own start-up included
    const dropLines = ownLines(r.stderr).filter((l) => /dropped 1 log record/.test(l));
    expect(dropLines, describeRun(r)).toHaveLength(1);
    if (said !== undefined) expect(dropLines[0]).toMatch(said);
  });
});
