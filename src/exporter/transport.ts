import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { PACKAGE_VERSION } from '../version.ts';

const gzipAsync = promisify(gzip);

/** Bytes of an error answer kept for diagnostics. */
const MAX_ERROR_BODY = 4096;
/** How long to wait for the body of an error answer once its status is known. */
const ERROR_BODY_WAIT_MS = 1_000;

export const USER_AGENT = `astralog-otel-js/${PACKAGE_VERSION} node/${process.version}`;

export interface TransportConfig {
  url: URL;
  apiKey: string;
  headers: Record<string, string>;
  compression: 'none' | 'gzip';
  ca: string | Buffer | Array<string | Buffer> | undefined;
}

export interface TransportResponse {
  status: number;
  retryAfter: string | undefined;
  /** The start of the answer's body (error answers only), for diagnostics. */
  body: string;
}

/** A failure below HTTP: the request produced no status. `code` is Node's (ECONNRESET, …) or ours. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * POSTs request bodies to the drain URL over keep-alive connections. Knows HTTP, not Astralog:
 * it reports what happened and leaves deciding what that means to the exporter.
 * Idle sockets are unref'd by the agent, so they never keep the process alive.
 */
export class HttpTransport {
  /** Host, port, path and the like of the drain URL, worked out once rather than per request. */
  private readonly target: http.RequestOptions;
  private readonly headers: Record<string, string>;
  private readonly compression: 'none' | 'gzip';
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;

  constructor(config: TransportConfig) {
    this.target = { ...urlToHttpOptions(config.url), method: 'POST' };
    this.compression = config.compression;
    this.headers = {
      ...config.headers,
      'user-agent': config.headers['user-agent'] ?? USER_AGENT,
      'content-type': 'application/json',
      authorization: `Bearer ${config.apiKey}`,
      ...(config.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
    const agentOptions = {
      keepAlive: true,
      maxSockets: 32,
      // Close idle sockets before common server idle timeouts (5 s) to avoid reusing a dying one.
      timeout: 4_000,
    };
    if (config.url.protocol === 'https:') {
      this.agent = new https.Agent({ ...agentOptions, ...(config.ca === undefined ? {} : { ca: config.ca }) });
      this.request = https.request;
    } else {
      this.agent = new http.Agent(agentOptions);
      this.request = http.request;
    }
  }

  /** The headers every request carries, Content-Length aside. */
  requestHeaders(): Record<string, string> {
    return { ...this.headers };
  }

  /** The bytes to send for a JSON body (gzip runs on the libuv thread pool, off the main thread). */
  async encodeBody(json: Buffer): Promise<Buffer> {
    return this.compression === 'gzip' ? gzipAsync(json) : json;
  }

  /** The same, synchronously, as a buffer of its own (for a last delivery from a worker thread). */
  encodeBodySync(json: Buffer): Buffer {
    return this.compression === 'gzip' ? gzipSync(json) : Buffer.from(json);
  }

  /**
   * Sends one request. Resolves with the status once it is known (a slow or endless body after a
   * 2xx cannot turn a delivered batch into a failure); rejects with TransportError otherwise.
   * With keepProcessAlive false, the socket does not keep the process running.
   */
  send(payload: Buffer, timeoutMs: number, signal: AbortSignal, keepProcessAlive = true): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(new TransportError('ABORT_ERR', 'request aborted: exporter is shutting down'));
        return;
      }
      let settled = false;
      let req: http.ClientRequest | undefined;
      const finish = (outcome: TransportResponse | TransportError) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (outcome instanceof TransportError) {
          clearTimeout(timer);
          req?.destroy();
          reject(outcome);
        } else {
          resolve(outcome);
        }
      };
      const onAbort = () => finish(new TransportError('ABORT_ERR', 'request aborted: exporter is shutting down'));
      // Bounds the whole exchange; after a status is known it only cleans up a body that never ends.
      const timer = setTimeout(() => {
        finish(new TransportError('ETIMEDOUT', `no answer within ${timeoutMs} ms`));
        req?.destroy();
      }, timeoutMs);
      timer.unref();
      signal.addEventListener('abort', onAbort, { once: true });

      try {
        req = this.request({ ...this.target, agent: this.agent, headers: { ...this.headers, 'content-length': String(payload.length) } });
      } catch (error) {
        finish(new TransportError(errorCode(error, 'ERR_REQUEST'), errorMessage(error)));
        return;
      }
      req.on('error', (error) => finish(new TransportError(errorCode(error, 'ECONNRESET'), errorMessage(error))));
      // A background export must not hold the process open; whoever waits for a flush holds it instead.
      if (!keepProcessAlive) req.on('socket', (socket) => socket.unref());
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = firstHeader(res.headers['retry-after']);
        const done = () => clearTimeout(timer);
        res.on('error', () => undefined); // a reset while draining an answered request changes nothing
        if (status >= 200 && status < 300) {
          finish({ status, retryAfter, body: '' });
          res.on('end', done);
          res.resume();
          return;
        }
        // Error answers: keep the start of the body for the diagnostic, but never wait long for it.
        const chunks: Buffer[] = [];
        let size = 0;
        const complete = () => finish({ status, retryAfter, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY) });
        const bodyTimer = setTimeout(complete, ERROR_BODY_WAIT_MS);
        bodyTimer.unref();
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ERROR_BODY) {
            chunks.push(chunk);
            size += chunk.length;
          }
        });
        res.on('end', () => {
          clearTimeout(bodyTimer);
          done();
          complete();
        });
        res.on('close', () => {
          clearTimeout(bodyTimer);
          complete();
        });
      });
      req.end(payload);
    });
  }

  /** Closes every socket, idle or busy. */
  destroy(): void {
    this.agent.destroy();
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function errorCode(error: unknown, fallback: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : fallback;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
