/**
 * Fault-injection helpers: run the built client in a child process against a misbehaving
 * loopback server, and check what every run must guarantee (exact accounting, exactly-once or
 * counted delivery, the process exits on its own, no unhandled rejection).
 *
 * Nothing here talks to anything but 127.0.0.1.
 */
import { listenOnLoopback } from './listen.ts';
import { expectAccounted } from './processing.ts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createNetServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import type { AstralogStats } from '../../src/client/client.ts';
import { total } from '../../src/processor/drop-report.ts';
import { checkDrain } from '../../src/receiver/contract.ts';
import { cleanEnv, spawnNode } from './apps.ts';
import { TEST_KEY } from './exporting.ts';
import { resetSocket } from './receiver.ts';
import { DIST_ESM } from './spawn.ts';

const SUMMARY_MESSAGE = 'astralog.sdk.dropped';
const UNHANDLED_MARKER = 'UNHANDLED_REJECTION';
const UNCAUGHT_MARKER = 'UNCAUGHT_EXCEPTION';
/** The child is killed this long after it printed its stats if it has not exited by then. */
const EXIT_BOUND_MS = 5_000;
/** Hard bound on the whole child run, in ms. */
const HARD_TIMEOUT_MS = 15_000;
/** How long the child may live after close() resolved: a leaked ref'd timer or socket shows up here. */
const LINGER_BOUND_MS = 1_500;

/** Client options small enough to keep each case within a few seconds. */
const FAST_OPTIONS = {
  exportTimeoutMs: 1000,
  flushIntervalMs: 50,
  authRetryIntervalMs: 200,
  shutdownTimeoutMs: 2000,
  maxBatchSize: 10,
} as const;

export interface ChildConfig {
  endpoint: string;
  /** Merged over FAST_OPTIONS (apiKey and endpoint are set from the other fields). */
  options?: Record<string, unknown>;
  apiKey?: string;
  /** Events to log: `log.info('e', { seq: i })` for i in 0..n-1. */
  n: number;
  /** Log `perTick` events, then sleep `tickMs`, and so on (tickMs 0: all at once). */
  perTick?: number;
  tickMs?: number;
  /**
   * Module code placed before the package is imported (the package is loaded with a dynamic
   * import after it). May contain static imports. May define `globalThis.__faultExtra`, a
   * function whose result is printed with the stats.
   */
  preamble?: string;
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** stats() after close(). */
  stats: AstralogStats | undefined;
  /** How long close() took. */
  closeMs: number | undefined;
  /** How long the process lived after close() resolved. */
  lingerMs: number | undefined;
  /** Killed because it did not exit within EXIT_BOUND_MS of printing its stats. */
  killedAfterClose: boolean;
  unhandled: string[];
  uncaught: string[];
  extra: unknown;
}

function childScript(preamble: string): string {
  return `${preamble}
const out = (tag, value) => process.stdout.write(tag + ' ' + JSON.stringify(value) + '\\n');
process.on('unhandledRejection', (reason) => out(${JSON.stringify(UNHANDLED_MARKER)}, String((reason && reason.stack) || reason)));
process.on('uncaughtException', (error) => { out(${JSON.stringify(UNCAUGHT_MARKER)}, String((error && error.stack) || error)); process.exitCode = 70; });
const cfg = JSON.parse(process.env.FAULT_CHILD_CONFIG);
const { createAstralog } = await import(cfg.dist);
const log = createAstralog({ ...cfg.options, apiKey: cfg.apiKey, endpoint: cfg.endpoint });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
for (let i = 0; i < cfg.n; i++) {
  log.info('e', { seq: i });
  if (cfg.tickMs > 0 && (i + 1) % cfg.perTick === 0 && i + 1 < cfg.n) await sleep(cfg.tickMs);
}
const closeStarted = Date.now();
await log.close();
const closedAt = Date.now();
process.on('exit', (code) => out('EXITED', { lingerMs: Date.now() - closedAt, code }));
out('STATS', { closeMs: closedAt - closeStarted, stats: log.stats(), extra: typeof globalThis.__faultExtra === 'function' ? globalThis.__faultExtra() : undefined });
`;
}

function taggedLines(stdout: string, tag: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(tag + ' '))
    .map((line) => line.slice(tag.length + 1));
}

/**
 * Runs the real client (dist/index.js) in a child process (cwd: the repository root, a clean
 * environment): logs `n` events with `seq` in their metadata, closes, prints its stats, and must
 * then exit by itself. Resolves when it has ended.
 */
export function runFaultChild(config: ChildConfig): Promise<ChildRun> {
  const childConfig = {
    dist: pathToFileURL(DIST_ESM).href,
    apiKey: config.apiKey ?? TEST_KEY,
    endpoint: config.endpoint,
    options: { ...FAST_OPTIONS, ...config.options },
    n: config.n,
    perTick: config.perTick ?? config.n,
    tickMs: config.tickMs ?? 0,
  };
  const env = cleanEnv({ FAULT_CHILD_CONFIG: JSON.stringify(childConfig) });
  // Nothing inherited may change how TLS is verified.
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  delete env.NODE_EXTRA_CA_CERTS;
  const spawned = spawnNode(['--input-type=module', '-e', childScript(config.preamble ?? '')], { env, timeoutMs: HARD_TIMEOUT_MS });
  let killedAfterClose = false;
  let killTimer: NodeJS.Timeout | undefined;
  spawned.waitForLine('STATS ', HARD_TIMEOUT_MS).then(
    () => {
      killTimer = setTimeout(() => {
        killedAfterClose = true;
        spawned.child.kill('SIGKILL');
      }, EXIT_BOUND_MS);
    },
    () => undefined, // ended (or hard-killed) without stats: the run's assertions say so
  );
  return spawned.result.then((r): ChildRun => {
    clearTimeout(killTimer);
    const statsLine = taggedLines(r.stdout, 'STATS')[0];
    const exitLine = taggedLines(r.stdout, 'EXITED')[0];
    const parsed = statsLine === undefined ? undefined : (JSON.parse(statsLine) as { closeMs: number; stats: AstralogStats; extra: unknown });
    const exited = exitLine === undefined ? undefined : (JSON.parse(exitLine) as { lingerMs: number });
    return {
      code: r.code,
      signal: r.signal,
      stdout: r.stdout,
      stderr: r.stderr,
      durationMs: r.durationMs,
      stats: parsed?.stats,
      closeMs: parsed?.closeMs,
      lingerMs: exited?.lingerMs,
      killedAfterClose,
      unhandled: taggedLines(r.stdout, UNHANDLED_MARKER),
      uncaught: taggedLines(r.stdout, UNCAUGHT_MARKER),
      extra: parsed?.extra,
    };
  });
}

function describeRun(run: ChildRun): string {
  return `code=${run.code} signal=${run.signal} killedAfterClose=${run.killedAfterClose} durationMs=${run.durationMs}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

type AnyEvent = { message?: unknown; metadata?: Record<string, unknown> };

export interface DeliveryReport {
  /** seq of every accepted event (summaries aside), in arrival order, duplicates included. */
  seqs: number[];
  unique: Set<number>;
  duplicates: number[];
  /** The `astralog.sdk.dropped` summary events' metadata. */
  summaries: Record<string, unknown>[];
}

function deliveryReport(accepted: readonly unknown[]): DeliveryReport {
  const seqs: number[] = [];
  const summaries: Record<string, unknown>[] = [];
  for (const raw of accepted) {
    const event = raw as AnyEvent;
    if (event.message === SUMMARY_MESSAGE) {
      summaries.push(event.metadata ?? {});
      continue;
    }
    seqs.push(event.metadata?.['seq'] as number);
  }
  const unique = new Set<number>();
  const duplicates: number[] = [];
  for (const s of seqs) {
    if (unique.has(s)) duplicates.push(s);
    unique.add(s);
  }
  return { seqs, unique, duplicates, summaries };
}

/**
 * What every fault case must show:
 * (1) emitted = exported + dropped + queued + inFlight; after close nothing is queued or in flight
 *     and exported + dropped = emitted = n;
 * (2) every accepted event (summaries aside) is one of ours, and none twice, except an event whose
 *     request went unanswered (it may have arrived) and that was sent once more: at most one
 *     duplicate each, no more than the client counted as unanswered; the accepted count is
 *     stats.exported plus those duplicates;
 * (3) the child exited by itself, code 0, soon after close();
 * (4) no unhandled rejection, no uncaught exception.
 */
export function expectFaultInvariants(run: ChildRun, accepted: readonly unknown[], n: number): DeliveryReport {
  const context = describeRun(run);
  if (process.env.FAULT_DEBUG === '1') console.log(context);
  expect(run.unhandled, `unhandled rejection in the child\n${context}`).toEqual([]);
  expect(run.uncaught, `uncaught exception in the child\n${context}`).toEqual([]);
  expect(run.killedAfterClose, `the child did not exit within ${EXIT_BOUND_MS} ms after close()\n${context}`).toBe(false);
  expect(run.signal, context).toBeNull();
  expect(run.code, context).toBe(0);
  expect(run.lingerMs, `how long the child lived after close()\n${context}`).toBeLessThan(LINGER_BOUND_MS);

  const stats = run.stats;
  expect(stats, `no stats printed\n${context}`).toBeDefined();
  if (stats === undefined) throw new Error('unreachable');
  const json = JSON.stringify(stats);
  const dropped = total(stats.dropped);
  expectAccounted(stats);
  expect(stats.emitted, json).toBe(n);
  expect(stats.queued, json).toBe(0);
  expect(stats.inFlight, json).toBe(0);
  expect(stats.exported + dropped, json).toBe(stats.emitted);

  const report = deliveryReport(accepted);
  for (const seq of report.seqs) {
    expect(Number.isInteger(seq) && seq >= 0 && seq < n, `accepted an event that is not one of ours: seq=${String(seq)}`).toBe(true);
  }
  expect(report.duplicates.length, `duplicates the receiver accepted: ${report.duplicates.join(',')}; stats ${json}`).toBeLessThanOrEqual(stats.exporter.unanswered);
  expect(new Set(report.duplicates).size, `an event accepted three times or more: ${report.duplicates.join(',')}`).toBe(report.duplicates.length);
  expect(report.unique.size, `distinct events accepted vs stats.exported; stats ${json}`).toBe(stats.exported);
  expect(report.seqs.length, `events accepted vs stats.exported + allowed duplicates; stats ${json}`).toBe(stats.exported + report.duplicates.length);
  return report;
}

/** Every seq in 0..n-1 except `except`. */
export function allSeqs(n: number, except: readonly number[] = []): number[] {
  return Array.from({ length: n }, (_, i) => i).filter((i) => !except.includes(i));
}

export function sortedSeqs(report: DeliveryReport): number[] {
  return [...report.unique].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// A loopback TCP proxy that can go down (every connection reset, nothing listening) and come
// back up on the same port, in front of whatever receiver is current.

export interface TcpProxy {
  port: number;
  /** 'http://127.0.0.1:<port>' */
  url: string;
  setTarget(port: number): void;
  /** Resets every connection and stops listening. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let port = 0;
  let server: Server | undefined;
  const sockets = new Set<Socket>();

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };

  const listen = async (): Promise<void> => {
    const s = createNetServer((client) => {
      track(client);
      const upstream = connect(target, '127.0.0.1');
      track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => resetSocket(upstream));
      upstream.on('close', () => resetSocket(client));
    });
    port = await listenOnLoopback(s, port); // the same port again after down()
    server = s;
  };

  const down = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) resetSocket(socket);
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    setTarget(p) {
      target = p;
    },
    down,
    up: listen,
    close: down,
  };
}

// ---------------------------------------------------------------------------------------------
// TLS: a self-signed certificate for 127.0.0.1 and an https drain server.

export interface SelfSignedCert {
  cert: string;
  key: string;
}

/**
 * Generates a throwaway self-signed certificate with openssl (which must be installed), for IP
 * 127.0.0.1 by default, or for the given subject alternative names (`DNS:ingest.test`, …).
 */
export function makeSelfSignedCert(altNames: readonly string[] = ['IP:127.0.0.1']): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'astralog-tls-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', `/CN=${(altNames[0] ?? '').replace(/^\w+:/, '')}`, '-addext', `subjectAltName=${altNames.join(',')}`],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ENOENT') {
        throw new Error('openssl is not installed (not on PATH): the TLS fault tests need it to generate a self-signed certificate; install openssl (e.g. apt-get install openssl)');
      }
      throw new Error(`openssl could not generate a self-signed certificate: ${(error as Error).message}`);
    }
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TlsReceiver {
  url: string;
  /** TCP connections accepted. */
  tcpConnections(): number;
  /** Completed TLS handshakes. */
  handshakes(): number;
  /** POST /v1/drain requests that arrived. */
  requests(): number;
  accepted: unknown[];
  close(): Promise<void>;
}

/** An https server on 127.0.0.1 that checks the ingest contract and accepts every valid drain. */
export async function startTlsReceiver(tls: SelfSignedCert, apiKey = TEST_KEY): Promise<TlsReceiver> {
  const accepted: unknown[] = [];
  let tcp = 0;
  let secure = 0;
  let requests = 0;
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const answer = (status: number, payload: unknown): void => {
      const body = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/drain') {
      req.resume();
      answer(404, { error: 'not found' });
      return;
    }
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const checked = checkDrain(req.headers, Buffer.concat(chunks), apiKey);
      if ('error' in checked) return answer(checked.status, { error: checked.error });
      accepted.push(...checked.events);
      answer(202, { status: 'accepted' });
    });
  });
  server.on('connection', (socket: Socket) => {
    tcp++;
    socket.on('error', () => undefined);
  });
  server.on('secureConnection', () => secure++);
  const port = await listenOnLoopback(server);
  return {
    url: `https://127.0.0.1:${port}`,
    tcpConnections: () => tcp,
    handshakes: () => secure,
    requests: () => requests,
    accepted,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
