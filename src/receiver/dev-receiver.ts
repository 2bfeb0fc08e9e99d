import { appendFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ACCEPTED_BODY, checkDrainBody, checkHeaders, DRAIN_PATH, type AstralogEvent } from './contract.ts';
import { EventLog, type StoredEvent } from './event-log.ts';
import { formatEvent } from './format.ts';
import { LiveStream } from './live-stream.ts';
import { RefusalCounter, type RefusalCount } from './refusals.ts';
import { allowedHost, serveWeb } from './web/serve.ts';

export type { StoredEvent } from './event-log.ts';
export type { RefusalCount } from './refusals.ts';

export interface DevReceiverOptions {
  /** Default 127.0.0.1: a dev receiver has no business on a network. */
  host?: string;
  /** Default 8080 (Astralog's documented local base URL); 0 picks a free one. */
  port?: number;
  /** The Bearer key requests must carry. */
  apiKey: string;
  /** Append every accepted event as a line of JSON to this file. */
  out?: string;
  /** Where readable event lines go; false prints nothing. Default: stdout. */
  print?: ((line: string) => void) | false;
  /** Colour the level (default: when printing to a TTY). */
  colour?: boolean;
  /** Events kept in memory for /api/events and the page (oldest dropped first, and counted). Default 10000. */
  maxEvents?: number;
}

/** What the receiver has seen; the page shows it. Never holds the API key. */
export interface DevReceiverStats {
  /** Events accepted since the start. */
  received: number;
  /** Events held in memory now (at most maxEvents). */
  kept: number;
  maxEvents: number;
  /** Events pushed out of memory by newer ones. */
  dropped: number;
  /** Drain requests refused (401, 400, 413), by status and reason. */
  refused: { total: number; reasons: RefusalCount[] };
  /** The receiver process's memory, in bytes. */
  memory: { rss: number; heapUsed: number };
  /** Pages reading the live tail now. */
  liveClients: number;
}

export interface DevReceiver {
  url: string;
  port: number;
  /** Events kept, oldest first. */
  events(): readonly StoredEvent[];
  stats(): DevReceiverStats;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * A local Astralog-compatible ingest service: POST /v1/drain (Bearer key, JSON or gzip body,
 * 202 / 400 / 401 / 413 as the contract says), GET /health, GET /api/events?trace_id=…&service=…
 * to pull the events of one trace across services, and a web page at / (live tail over
 * GET /api/stream, filters, trace view; counters from GET /api/stats). Prints events readably as they arrive.
 */
export async function startDevReceiver(options: DevReceiverOptions): Promise<DevReceiver> {
  const host = options.host ?? '127.0.0.1';
  const log = new EventLog(options.maxEvents ?? 10_000);
  const refusals = new RefusalCounter();
  const print = options.print === false ? undefined : (options.print ?? ((line: string) => process.stdout.write(line + '\n')));
  const colour = options.colour ?? (options.print === undefined && process.stdout.isTTY === true);
  const sockets = new Set<Socket>();
  let writing: Promise<void> = Promise.resolve();

  const accept = (events: AstralogEvent[]): void => {
    const receivedAt = new Date().toISOString();
    const stored = events.map((event): StoredEvent => ({ ...event, received_at: receivedAt }));
    if (print !== undefined) for (const event of events) print(formatEvent(event, colour));
    live.published(log.push(stored), stored);
    if (options.out !== undefined) {
      const lines = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      const out = options.out;
      writing = writing
        .then(() => appendFile(out, lines))
        .catch((error: Error) => {
          process.stderr.write(`astralog dev: cannot write ${out}: ${error.message}\n`);
        });
    }
  };

  const stats = (): DevReceiverStats => {
    const memory = process.memoryUsage();
    return {
      received: log.received,
      kept: log.size,
      maxEvents: log.capacity,
      dropped: log.dropped,
      refused: { total: refusals.total, reasons: refusals.list() },
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
      liveClients: live.clientCount,
    };
  };
  const live = new LiveStream(log, stats);
  const refuse = (res: ServerResponse, status: number, error: string): void => {
    refusals.add(status, error);
    live.statsChanged();
    sendJson(res, status, { error });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendJson(res, 500, { error: 'internal error' }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET') {
      if (!allowedHost(req.headers.host, host)) return sendJson(res, 403, { error: 'the page and the read API answer loopback names only (localhost, 127.0.0.1, [::1])' });
      if (url.pathname === '/api/events') return sendJson(res, 200, { events: query(log.since(), url.searchParams) });
      if (url.pathname === '/api/stats') return sendJson(res, 200, stats());
      if (url.pathname === '/api/stream') return live.open(req, res, url.searchParams.get('since'));
      if (serveWeb(url.pathname, res)) return;
    }
    if (req.method !== 'POST' || url.pathname !== DRAIN_PATH) return sendJson(res, 404, { error: 'not found' });

    // Headers first, so that a refused upload is not read.
    const refusal = checkHeaders(req.headers, options.apiKey);
    if (refusal !== undefined) {
      req.resume();
      return refuse(res, refusal.status, refusal.error);
    }
    const raw = await readBody(req);
    if (raw === undefined) return refuse(res, 413, `body larger than ${MAX_BODY_BYTES} bytes`);
    const checked = checkDrainBody(req.headers, raw);
    if ('error' in checked) return refuse(res, checked.status, checked.error);
    accept(checked.events);
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ACCEPTED_BODY) }).end(ACCEPTED_BODY);
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`port ${options.port ?? 8080} on ${host} is already in use (another astralog dev?); choose another with --port`));
      } else reject(error);
    });
    server.listen(options.port ?? 8080, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    events: () => log.since(),
    stats,
    close: async () => {
      // Open live streams end first (they would hold server.close() forever), then every socket.
      live.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await writing;
    },
  };
}

function query(events: readonly StoredEvent[], params: URLSearchParams): StoredEvent[] {
  const traceId = params.get('trace_id');
  const service = params.get('service');
  const limit = Math.min(Math.max(Number(params.get('limit') ?? 1000) || 1000, 1), 100_000);
  const matching = events.filter((e) => (traceId === null || e.trace_id === traceId) && (service === null || e.service === service));
  return matching.slice(-limit);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}
