import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, ownLines, runApp, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { makeSelfSignedCert, startTlsReceiver, type TlsReceiver } from '../support/faults.ts';
import { startProxy, type TestProxy } from '../support/proxy.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import type { ProcessResult } from '../support/spawn.ts';

// Register's proxy, from the environment, in real processes: HTTPS_PROXY/HTTP_PROXY/NO_PROXY as
// undici's EnvHttpProxyAgent reads them, ASTRALOG_PROXY, and the last delivery at process.exit()
// (a worker thread) taking the same way. Endpoints named ingest.test resolve nowhere: the app's DNS is replaced by
// a preload that answers only when a test asks it to (MAP_INGEST=1) and counts what it was asked,
// so a request that should have gone through the proxy can never leave loopback.

const REGISTER = '@astralog/otel/register';
const PASSWORD = 'pr0xy-S3CRET-pw';
const TIMEOUT_MS = 12_000;

const DNS_PRELOAD = `
const dns = require('node:dns');
const { isMainThread } = require('node:worker_threads');
let asked = 0;
dns.lookup = (host, options, callback) => {
  asked++;
  const done = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all === true;
  if (host === 'ingest.test' && process.env.MAP_INGEST === '1') return process.nextTick(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)));
  process.nextTick(done, Object.assign(new Error('getaddrinfo ENOTFOUND ' + host), { code: 'ENOTFOUND', hostname: host }));
};
if (isMainThread) process.on('exit', () => process.stdout.write('LOOKUPS ' + asked + '\\n'));
`;
// A preload that records whether it ran inside a worker thread (register's last delivery must start none).
const PROBE_PRELOAD = `
const { isMainThread } = require('node:worker_threads');
if (!isMainThread) require('node:fs').appendFileSync(process.env.PROBE_FILE, 'a preload ran in a worker thread\\n');
`;
const APPS: Record<string, string> = {
  'logs.mjs': `console.log('first line');\nconsole.log('second line');\n`,
  'exit.mjs': `console.log('last words');\nprocess.exit(3);\n`,
  'exit.cjs': `console.log('last words');\nprocess.exit(3);\n`,
};

let apps: AppDir;
let certFile: string;
let tlsCert: ReturnType<typeof makeSelfSignedCert>;
beforeAll(() => {
  apps = makeAppDir();
  for (const [name, source] of Object.entries(APPS)) apps.write(name, source);
  apps.write('dns.cjs', DNS_PRELOAD);
  apps.write('probe.cjs', PROBE_PRELOAD);
  tlsCert = makeSelfSignedCert(['DNS:ingest.test', 'IP:127.0.0.1']); // the endpoint's, and an https proxy's
  certFile = apps.write('ca.pem', tlsCert.cert);
});
afterAll(() => apps?.remove());

let secure: TlsReceiver;
let plain: Receiver;
let proxy: TestProxy;
beforeEach(async () => {
  secure = await startTlsReceiver(tlsCert);
  plain = await startReceiver({ apiKey: TEST_KEY });
  proxy = await startProxy({ user: 'bob', password: PASSWORD });
});
afterEach(async () => {
  await Promise.all([secure.close(), plain.close(), proxy.close()]);
});

const ingestUrl = () => `https://ingest.test:${new URL(secure.url).port}`;
const proxyUrl = (password = PASSWORD) => `http://bob:${password}@127.0.0.1:${proxy.port}`;
const messagesOf = (events: readonly unknown[]) => (events as Array<{ message: string }>).map((e) => e.message).sort();
const lookups = (run: ProcessResult) => Number(/LOOKUPS (\d+)/.exec(run.stdout)?.[1] ?? NaN);
const describeRun = (r: ProcessResult) => `code=${r.code} (${r.durationMs} ms)\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  // The endpoint's certificate is trusted the way a register user would do it: NODE_EXTRA_CA_CERTS.
  return cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_SERVICE: 'e2e-proxy', NODE_EXTRA_CA_CERTS: certFile, ...extra });
}
const run = (args: string[], extra: Record<string, string>) => runApp(['--require', `${apps.dir}/dns.cjs`, ...args], { env: env(extra), timeoutMs: TIMEOUT_MS });

describe('register behind a proxy named by the environment', () => {
  it('HTTPS_PROXY with credentials: a CONNECT tunnel to the endpoint, named on the startup line without the password', async () => {
    const r = await run(['--import', REGISTER, `${apps.dir}/logs.mjs`], { ASTRALOG_ENDPOINT: ingestUrl(), HTTPS_PROXY: proxyUrl() });
    expect(r.code, describeRun(r)).toBe(0);
    expect(messagesOf(secure.accepted)).toEqual(['first line', 'second line']);
    expect(proxy.requests.map((p) => [p.method, p.target, p.allowed])).toEqual([['CONNECT', `ingest.test:${new URL(secure.url).port}`, true]]);
    expect(lookups(r)).toBe(0); // the app never resolved the name: the proxy did
    const own = ownLines(r.stderr);
    expect(own[0]).toContain(`sending logs to ${ingestUrl()}/v1/drain through the proxy http://127.0.0.1:${proxy.port} (HTTPS_PROXY)`);
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
  });

  it.each([
    ['an https endpoint: CONNECT inside the TLS to the proxy, TLS to the endpoint inside the tunnel', 'logs.mjs', 'HTTPS_PROXY', 0],
    ['an http endpoint, at process.exit(): forwarded inside the TLS to the proxy', 'exit.mjs', 'ASTRALOG_PROXY', 3],
  ] as const)('an https:// proxy (its certificate trusted through NODE_EXTRA_CA_CERTS), %s', async (_name, app, variable, code) => {
    const tlsProxy = await startProxy({ user: 'bob', password: PASSWORD, tls: tlsCert });
    try {
      const endpoint = app === 'logs.mjs' ? ingestUrl() : `http://ingest.test:${new URL(plain.url).port}`;
      const viaProxy = `https://bob:${PASSWORD}@127.0.0.1:${tlsProxy.port}`;
      const r = await run(['--import', REGISTER, `${apps.dir}/${app}`], { ASTRALOG_ENDPOINT: endpoint, [variable]: viaProxy, ASTRALOG_ALLOW_INSECURE_HTTP: 'true' });
      expect(r.code, describeRun(r)).toBe(code);
      const received = app === 'logs.mjs' ? secure.accepted : plain.accepted;
      expect(messagesOf(received)).toEqual(app === 'logs.mjs' ? ['first line', 'second line'] : ['last words']);
      expect(tlsProxy.requests.map((p) => [p.method, p.allowed])).toEqual([[app === 'logs.mjs' ? 'CONNECT' : 'POST', true]]);
      expect(lookups(r)).toBe(0);
      expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    } finally {
      await tlsProxy.close();
    }
  });

  it('the proxy refuses the credentials: said once, without the password; the app runs as without register', async () => {
    const wrong = 'wr0ng-S3CRET-pw';
    const r = await run(['--import', REGISTER, `${apps.dir}/logs.mjs`], { ASTRALOG_ENDPOINT: ingestUrl(), HTTPS_PROXY: proxyUrl(wrong), ASTRALOG_SHUTDOWN_TIMEOUT_MS: '500' });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('first line\nsecond line\n');
    expect(secure.accepted).toEqual([]);
    expect(ownLines(r.stderr).filter((l) => l.includes('refused its credentials (HTTP 407)'))).toHaveLength(1);
    expect(r.stderr + r.stdout).not.toContain(wrong);
  });

  it.each([
    ['NO_PROXY lists the host', { NO_PROXY: 'localhost,.test' }],
    ['ASTRALOG_PROXY=none', { ASTRALOG_PROXY: 'none' }],
  ])('%s: a direct connection, the proxy untouched', async (_name, extra) => {
    const r = await run(['--import', REGISTER, `${apps.dir}/logs.mjs`], { ASTRALOG_ENDPOINT: ingestUrl(), HTTPS_PROXY: proxyUrl(), MAP_INGEST: '1', ...extra });
    expect(r.code, describeRun(r)).toBe(0);
    expect(messagesOf(secure.accepted)).toEqual(['first line', 'second line']);
    expect(proxy.requests).toEqual([]);
    expect(lookups(r)).toBeGreaterThan(0);
    expect(ownLines(r.stderr)[0]).not.toContain('through the proxy');
  });

  it('a proxy variable register cannot use: one line naming it (never its password), the app runs normally, nothing sent', async () => {
    const r = await run(['--import', REGISTER, `${apps.dir}/logs.mjs`], { ASTRALOG_ENDPOINT: ingestUrl(), HTTPS_PROXY: `socks5://bob:${PASSWORD}@127.0.0.1:1080` });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain('first line\nsecond line\n');
    const own = ownLines(r.stderr);
    expect(own, r.stderr).toHaveLength(1);
    expect(own[0]).toContain('HTTPS_PROXY: expected an http:// or https:// proxy');
    expect(r.stderr).not.toContain(PASSWORD);
    expect(proxy.requests).toEqual([]);
  });
});

describe("register's last delivery at process.exit() goes the same way, and starts nothing of the app's in its worker", () => {
  // The probe preload sits beside register, so whatever register's worker inherits, the probe would show.
  it.each([
    ['ESM, --import', 'import', 'exit.mjs'],
    ['CommonJS, --require', 'require', 'exit.cjs'],
    ['CommonJS, NODE_OPTIONS=--require', 'node-options', 'exit.cjs'],
  ] as const)('%s', async (_name, how, app) => {
    const probe = `${apps.dir}/probe.cjs`;
    const probeFile = `${apps.dir}/probe-${how}.txt`;
    const preload = how === 'import' ? ['--require', probe, '--import', REGISTER] : how === 'require' ? ['--require', probe, '--require', REGISTER] : [];
    const r = await run([...preload, `${apps.dir}/${app}`], {
      ASTRALOG_ENDPOINT: plain.url,
      ASTRALOG_PROXY: proxyUrl(),
      PROBE_FILE: probeFile,
      ...(how === 'node-options' ? { NODE_OPTIONS: `--require ${probe} --require ${REGISTER}` } : {}),
    });
    expect(r.code, describeRun(r)).toBe(3);
    expect(messagesOf(plain.accepted)).toEqual(['last words']);
    expect(proxy.requests.map((p) => [p.method, p.allowed])).toEqual([['POST', true]]); // the worker went through the proxy
    expect(ownLines(r.stderr).filter((l) => l.includes('sending logs to'))).toHaveLength(1);
    expect(existsSync(probeFile) ? readFileSync(probeFile, 'utf8') : '').toBe('');
  });
});
