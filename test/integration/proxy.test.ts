import { once } from 'node:events';
import net from 'node:net';
import { inspect } from 'node:util';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AstralogLogRecordExporter, createAstralog, type AstralogExporterOptions } from '../../src/index.ts';
import { captureStderr, exportOnce, TEST_KEY } from '../support/exporting.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { makeSelfSignedCert, startTlsReceiver, type SelfSignedCert, type TlsReceiver } from '../support/faults.ts';
import { startProxy, type TestProxy } from '../support/proxy.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { makeRecords } from '../support/records.ts';

// The exporter behind an HTTP proxy given by the proxy option (the environment's variables are
// tested in test/e2e/proxy-env.test.ts). Endpoints use the name ingest.test, which nothing
// resolves: only the proxy (which sends every name to 127.0.0.1) can reach them.

const PASSWORD = 'pr0xy-S3CRET-pw';

let tls: SelfSignedCert;
beforeAll(() => {
  tls = makeSelfSignedCert(['DNS:ingest.test']);
});

let stderr: ReturnType<typeof captureStderr>;
const diagnostics: string[] = [];
const closers: Array<() => Promise<unknown>> = [];
beforeEach(() => {
  stderr = captureStderr();
  diagnostics.length = 0;
  const capture = (...args: unknown[]) => diagnostics.push(args.map(String).join(' '));
  diag.setLogger({ error: capture, warn: capture, info: capture, debug: capture, verbose: capture }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
});
afterEach(async () => {
  diag.disable();
  stderr.restore();
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function proxyServer(options: { user?: string; password?: string } = {}): Promise<TestProxy> {
  const proxy = await startProxy(options);
  closers.push(() => proxy.close());
  return proxy;
}
async function plainReceiver(): Promise<Receiver> {
  const receiver = await startReceiver({ apiKey: TEST_KEY });
  closers.push(() => receiver.close());
  return receiver;
}
async function tlsReceiver(): Promise<TlsReceiver> {
  const receiver = await startTlsReceiver(tls);
  closers.push(() => receiver.close());
  return receiver;
}
function exporterFor(options: Partial<AstralogExporterOptions>): AstralogLogRecordExporter {
  const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, exportTimeoutMs: 3000, ...options });
  closers.push(() => exporter.shutdown());
  return exporter;
}
const portOf = (url: string) => new URL(url).port;
const proxyWithCredentials = (proxy: TestProxy, password = PASSWORD) => `http://bob:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;

describe('through a proxy (the proxy option)', () => {
  it('an http endpoint: each request forwarded in absolute form, delivered once', async () => {
    const receiver = await plainReceiver();
    const proxy = await proxyServer();
    const exporter = exporterFor({ endpoint: `http://ingest.test:${portOf(receiver.url)}`, allowInsecureHttp: true, proxy: proxy.url });
    expect(exporter.proxy).toEqual({ origin: proxy.url, variable: undefined });
    for (let i = 0; i < 3; i++) expect((await exportOnce(exporter, makeRecords(2, {}, i * 2))).code).toBe(ExportResultCode.SUCCESS);
    expect(proxy.requests.map((r) => `${r.method} ${r.target}`)).toEqual(Array(3).fill(`POST http://ingest.test:${portOf(receiver.url)}/v1/drain`));
    expect(receiver.accepted.map((e) => (e as { metadata: { seq: number } }).metadata.seq)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('an https endpoint: a CONNECT tunnel with TLS inside (the proxy never sees the key), delivered once', async () => {
    const receiver = await tlsReceiver();
    const proxy = await proxyServer();
    const exporter = exporterFor({ endpoint: `https://ingest.test:${portOf(receiver.url)}`, ca: tls.cert, proxy: proxy.url });
    for (let i = 0; i < 3; i++) expect((await exportOnce(exporter, makeRecords(2, {}, i * 2))).code).toBe(ExportResultCode.SUCCESS);
    expect(proxy.requests.every((r) => r.method === 'CONNECT' && r.target === `ingest.test:${portOf(receiver.url)}`)).toBe(true);
    expect(proxy.requests.length).toBeLessThanOrEqual(2); // the tunnels are kept alive across exports
    expect(JSON.stringify(proxy.requests)).not.toContain(TEST_KEY);
    expect(receiver.accepted).toHaveLength(6);
    expect(receiver.handshakes()).toBe(proxy.requests.length);
  });

  it('with credentials: sent to the proxy as Basic auth, on CONNECT and when forwarding', async () => {
    const proxy = await proxyServer({ user: 'bob', password: PASSWORD });
    const plain = await plainReceiver();
    const secure = await tlsReceiver();
    const forwarding = exporterFor({ endpoint: `http://ingest.test:${portOf(plain.url)}`, allowInsecureHttp: true, proxy: proxyWithCredentials(proxy) });
    const tunnelling = exporterFor({ endpoint: `https://ingest.test:${portOf(secure.url)}`, ca: tls.cert, proxy: proxyWithCredentials(proxy) });
    expect((await exportOnce(forwarding, makeRecords(2))).code).toBe(ExportResultCode.SUCCESS);
    expect((await exportOnce(tunnelling, makeRecords(2))).code).toBe(ExportResultCode.SUCCESS);
    expect(proxy.requests.map((r) => [r.method, r.allowed])).toEqual([
      ['POST', true],
      ['CONNECT', true],
    ]);
    expect(plain.accepted).toHaveLength(2);
    expect(secure.accepted).toHaveLength(2);
  });

  it.each(['forwarding', 'tunnelling'] as const)(
    'credentials the proxy refuses (407, %s): sending pauses, said once without the password, never retried in a storm',
    async (mode) => {
      const proxy = await proxyServer({ user: 'bob', password: PASSWORD });
      const target =
        mode === 'forwarding'
          ? { endpoint: `http://ingest.test:${portOf((await plainReceiver()).url)}`, allowInsecureHttp: true }
          : { endpoint: `https://ingest.test:${portOf((await tlsReceiver()).url)}`, ca: tls.cert };
      const wrong = 'wr0ng-S3CRET-pw';
      const exporter = exporterFor({ ...target, proxy: proxyWithCredentials(proxy, wrong), authRetryIntervalMs: 60_000 });
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await exportOnce(exporter, makeRecords(2)));
      expect(results.map((r) => r.code)).toEqual([ExportResultCode.FAILED, ExportResultCode.FAILED, ExportResultCode.FAILED]);
      expect(proxy.requests).toHaveLength(1); // paused after the first refusal: the next exports fail at once
      expect(exporter.stats().failed).toMatchObject({ network: 6, retriesExhausted: 0 });
      const lines = stderr.lines().filter((l) => l.includes('407'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`the proxy ${proxy.url} refused its credentials (HTTP 407)`);
      const said = [...stderr.lines(), ...diagnostics, ...results.map((r) => `${r.error?.message} ${r.error?.stack}`), JSON.stringify(exporter.stats()), inspect(exporter, { depth: 20 })].join('\n');
      expect(said).not.toContain(wrong);
      expect(said).not.toContain(Buffer.from(`bob:${wrong}`).toString('base64'));
    },
  );

  it('a proxy that cannot open the tunnel (502) or is not there: retried like any network failure, never paused', async () => {
    const proxy = await proxyServer();
    const secure = await tlsReceiver();
    const closedPort = portOf(secure.url);
    await secure.close(); // nothing listens there now: the proxy answers CONNECT with 502
    const exporter = exporterFor({ endpoint: `https://ingest.test:${closedPort}`, ca: tls.cert, proxy: proxy.url, exportTimeoutMs: 600 });
    expect((await exportOnce(exporter, makeRecords(1))).code).toBe(ExportResultCode.FAILED);
    expect(proxy.requests.length).toBeGreaterThan(1); // retried within the export's budget
    expect(exporter.stats().failed).toMatchObject({ retriesExhausted: 1, network: 0 });
    expect(stderr.lines().join('\n')).toMatch(/ERR_PROXY_TUNNEL_REFUSED: the proxy answered HTTP 502/);

    const gone = await proxyServer();
    await gone.close();
    const refused = exporterFor({ endpoint: `https://ingest.test:${closedPort}`, ca: tls.cert, proxy: gone.url, exportTimeoutMs: 300 });
    expect((await exportOnce(refused, makeRecords(1))).code).toBe(ExportResultCode.FAILED);
    expect(refused.stats().failed).toMatchObject({ retriesExhausted: 1, network: 0 });
    expect(refused.stats().requests).toBeGreaterThan(1);
  });

  it('a proxy that takes the CONNECT and never answers: the export fails within its budget, and shutdown closes the tunnel it was opening', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
      socket.resume(); // reads the CONNECT, answers nothing
    });
    const port = await listenOnLoopback(silent);
    closers.push(async () => {
      for (const socket of held) socket.destroy();
      silent.close();
      await once(silent, 'close');
    });
    const exporter = exporterFor({ endpoint: 'https://ingest.test:443', ca: tls.cert, proxy: `http://127.0.0.1:${port}`, exportTimeoutMs: 300 });
    const result = await exportOnce(exporter, makeRecords(1));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(exporter.stats().failed).toMatchObject({ retriesExhausted: 1 });
    expect(held.length).toBeGreaterThan(0);
    const closed = held.map((socket) => once(socket, 'close'));
    await exporter.shutdown();
    await Promise.all(closed); // the tunnel being opened was closed by the shutdown, not left to its 10 s timeout
  });

  it('the proxy credentials never show in util.inspect, JSON or stats of the exporter and the client', async () => {
    const proxy = await proxyServer({ user: 'bob', password: PASSWORD });
    const receiver = await plainReceiver();
    const options = { apiKey: TEST_KEY, endpoint: `http://ingest.test:${portOf(receiver.url)}`, allowInsecureHttp: true, proxy: proxyWithCredentials(proxy) };
    const exporter = exporterFor(options);
    const client = createAstralog(options);
    closers.push(() => client.close());
    client.info('through the proxy');
    await client.flush();
    expect(receiver.accepted).toHaveLength(1);
    const shown = [inspect(exporter, { depth: Infinity }), inspect(client, { depth: Infinity }), JSON.stringify(exporter), JSON.stringify(client.stats()), JSON.stringify(exporter.proxy)].join('\n');
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(`bob:${PASSWORD}`).toString('base64'), TEST_KEY]) expect(shown).not.toContain(secret);
  });
});

describe('the proxy option and loopback', () => {
  let receiver: Receiver;
  let proxy: TestProxy;
  beforeAll(async () => {
    receiver = await startReceiver({ apiKey: TEST_KEY });
    proxy = await startProxy();
  });
  afterAll(async () => {
    await receiver.close();
    await proxy.close();
  });

  it('applies to a loopback endpoint too (the environment variables do not)', async () => {
    const exporter = exporterFor({ endpoint: receiver.url, proxy: proxy.url });
    expect((await exportOnce(exporter, makeRecords(1))).code).toBe(ExportResultCode.SUCCESS);
    expect(proxy.requests.map((r) => r.method)).toEqual(['POST']);
  });
});
