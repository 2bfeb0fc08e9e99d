import type { Agent, ClientRequest, ClientRequestArgs, IncomingMessage, RequestOptions } from 'node:http';
import type { NetConnectOpts, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, SecureContextOptions, TLSSocket } from 'node:tls';
import { portOf, proxyAuthorization } from '../config/proxy.ts';
import { PROXY_AUTH_REQUIRED } from './verdict.ts';

// Built-in modules through getBuiltinModule: an ESM `import 'node:http'` makes Node evaluate every
// export of it, and its WebSocket getters load Node's bundled undici (about 45 ms of CPU at
// start-up). node:https and node:tls (about 30 ms more) load only for an https endpoint or proxy,
// at its first request.
const http = process.getBuiltinModule('node:http');
const net = process.getBuiltinModule('node:net');

/**
 * Connections open at once. An export sends one request at a time, so a processor uses at most one
 * per export in flight (maxConcurrentExports, at most 64); this bounds only a caller that starts more.
 */
export const MAX_CONNECTIONS = 64;
/**
 * How long an idle connection is kept, unless the server's `Keep-Alive: timeout=N` hint is shorter
 * (Node's agent then closes it a second before the server would).
 */
const IDLE_TIMEOUT_MS = 4_000;
/** How long a proxy may take to open a CONNECT tunnel. */
const TUNNEL_TIMEOUT_MS = 10_000;

/** What the transport's payloads tell the sockets that write them (see detached). */
export interface PayloadWrites {
  /** A write of the payload was handed to the socket. */
  writeStarted(): void;
  /** That write completed, or failed with its socket. */
  writeEnded(): void;
  /** The payload is being written to an open connection (TLS handshake done): from now on it may arrive. */
  onConnection(): void;
}

/**
 * Each payload handed to node:http and not released yet, and who waits for its writes. A Map,
 * emptied as requests are released, rather than a WeakMap: its short-lived keys made GC work.
 */
export const payloadWrites = new Map<object, PayloadWrites>();

/** Where requests go: the agent that holds the connections, and what every request says. */
export interface Route {
  /** A POST of `length` bytes, not sent yet. */
  request(length: number): ClientRequest;
  /** Whether a status comes from a forwarding proxy as well as from the endpoint (a 407 is the proxy's). */
  readonly forwarded: boolean;
  /** Takes a request that waits for a connection out of the agent's queue (it was given up on). */
  unqueue(request: ClientRequest): void;
  /** Closes every connection, open, idle or still being made (give up on the requests first: see unqueue). */
  destroy(): void;
}

/**
 * The route to `endpoint`: a keep-alive agent straight to it, or through `proxy` (an http endpoint's
 * requests forwarded in absolute form, as curl and Go do; an https endpoint always tunnelled with
 * CONNECT, so the proxy never sees the key). `headers` are the transport's own.
 */
export function routeTo(endpoint: URL, proxy: string | undefined, ca: SecureContextOptions['ca'], headers: Record<string, string>): Route {
  const path = `${endpoint.pathname || '/'}${endpoint.search}`;
  const target = { protocol: endpoint.protocol, host: unbracketed(endpoint.hostname), port: portOf(endpoint), path };
  const tlsOptions = ca === undefined ? {} : { ca };
  headers = { host: endpoint.host, ...headers };
  if (proxy === undefined) {
    const agent = endpoint.protocol === 'https:' ? new (tlsAgents().DetachedHttpsAgent)(tlsOptions) : new DetachedHttpAgent();
    return agentRoute(agent, { ...target, headers }, false);
  }
  const proxyUrl = new URL(proxy);
  const authorization = proxyAuthorization(proxyUrl);
  if (endpoint.protocol === 'http:') {
    // The proxy's own TLS (an https:// proxy) is verified against the system's CAs, never `ca`.
    const agent = proxyUrl.protocol === 'https:' ? new (tlsAgents().DetachedHttpsAgent)({}) : new DetachedHttpAgent();
    if (authorization !== undefined) headers = { ...headers, 'proxy-authorization': authorization };
    const request = { protocol: proxyUrl.protocol, host: unbracketed(proxyUrl.hostname), port: portOf(proxyUrl), path: `${endpoint.origin}${path}`, headers };
    return agentRoute(agent, request, true);
  }
  const agent = new (tlsAgents().TunnellingAgent)(tlsOptions, proxyUrl, authorization);
  return agentRoute(agent, { ...target, headers }, false, () => agent.destroyAll());
}

function agentRoute(agent: Agent, options: RequestOptions & { headers: Record<string, string> }, forwarded: boolean, destroy = () => agent.destroy()): Route {
  // Node's agent keeps a request that was destroyed while it waited in its queue, and opens a
  // connection for it when another closes: the queue must lose it.
  // An emptied queue goes too, as Node's own code leaves none: it reads [0] of any queue it finds.
  const unqueue = (request: ClientRequest) => {
    const queues = agent.requests as Record<string, ClientRequest[] | undefined>;
    for (const [name, queue] of Object.entries(queues)) {
      const at = queue?.indexOf(request) ?? -1;
      if (at < 0) continue;
      queue?.splice(at, 1);
      if (queue?.length === 0) delete queues[name];
    }
  };
  return {
    request: (length) => http.request({ ...options, method: 'POST', agent, headers: { ...options.headers, 'content-length': String(length) } }),
    forwarded,
    unqueue,
    destroy,
  };
}

function unbracketed(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

const AGENT_OPTIONS = { keepAlive: true, maxSockets: MAX_CONNECTIONS, timeout: IDLE_TIMEOUT_MS, scheduling: 'lifo' } as const;

/** A plain keep-alive agent whose sockets never hold the process open. */
class DetachedHttpAgent extends http.Agent {
  constructor() {
    super(AGENT_OPTIONS);
  }

  override createConnection(options: ClientRequestArgs): Duplex {
    return detached(net.createConnection(options as NetConnectOpts), 'connect');
  }
}

let tlsAgentClasses: ReturnType<typeof defineTlsAgents> | undefined;

/** The TLS agents, defined (and node:https loaded) when first needed. */
function tlsAgents(): ReturnType<typeof defineTlsAgents> {
  return (tlsAgentClasses ??= defineTlsAgents());
}

function defineTlsAgents() {
  const https = process.getBuiltinModule('node:https');
  const tls = process.getBuiltinModule('node:tls');

  /** The same for TLS (https.Agent's createConnection keeps its TLS session cache). */
  class DetachedHttpsAgent extends https.Agent {
    constructor(tlsOptions: ConnectionOptions) {
      super({ ...AGENT_OPTIONS, ...tlsOptions });
    }

    override createConnection(options: ClientRequestArgs, _callback?: (error: Error | null, socket: Duplex) => void): Duplex | undefined {
      return detached(super.createConnection(options) as TLSSocket, 'secureConnect');
    }
  }

  /**
   * TLS to the endpoint inside a CONNECT tunnel through the proxy, one tunnel per connection, kept
   * alive like any other. The agent counts a connection once its tunnel is open.
   */
  class TunnellingAgent extends DetachedHttpsAgent {
    private readonly proxy: URL;
    private readonly authorization: string | undefined;
    /** Tunnels being opened: destroyAll ends them too. */
    private readonly opening = new Set<Duplex>();

    constructor(tlsOptions: ConnectionOptions, proxy: URL, authorization: string | undefined) {
      super(tlsOptions);
      this.proxy = proxy;
      this.authorization = authorization;
    }

    override createConnection(options: ClientRequestArgs, callback?: (error: Error | null, socket: Duplex) => void): undefined {
      const done = callback ?? (() => undefined);
      const target = `${options.host?.includes(':') === true ? `[${options.host}]` : options.host}:${options.port}`;
      const proxyHost = unbracketed(this.proxy.hostname);
      const proxyPort = portOf(this.proxy);
      const raw =
        this.proxy.protocol === 'https:'
          ? detached(tls.connect({ host: proxyHost, port: proxyPort, servername: net.isIP(proxyHost) === 0 ? proxyHost : undefined }), 'secureConnect')
          : detached(net.createConnection({ host: proxyHost, port: proxyPort }), 'connect');
      this.opening.add(raw);
      let settled = false;
      const settle = (error: Error | null, socket?: Duplex) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.opening.delete(raw);
        if (error !== null) {
          raw.destroy();
          done(error, raw);
        } else done(null, socket as Duplex);
      };
      const timer = setTimeout(() => settle(new TransportError('ETIMEDOUT', `the proxy did not open a tunnel within ${TUNNEL_TIMEOUT_MS} ms`)), TUNNEL_TIMEOUT_MS);
      timer.unref();
      const headers: Record<string, string> = { host: target };
      if (this.authorization !== undefined) headers['proxy-authorization'] = this.authorization;
      const connect = http.request({ method: 'CONNECT', path: target, headers, createConnection: () => raw });
      connect.on('error', (error) => settle(error));
      connect.on('connect', (answer: IncomingMessage, socket: Socket, head: Buffer) => {
        const status = answer.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          socket.destroy();
          settle(new TransportError(status === 407 ? PROXY_AUTH_REQUIRED : 'ERR_PROXY_TUNNEL_REFUSED', `the proxy answered HTTP ${status}`));
          return;
        }
        if (head.length > 0) socket.unshift(head);
        // TLS with the endpoint, as https.Agent makes it (server name, session cache), over the tunnel.
        settle(null, super.createConnection({ ...options, socket } as ClientRequestArgs) as Duplex);
      });
      connect.end();
      return undefined;
    }

    /** Closes the agent's connections and the tunnels still being opened. */
    destroyAll(): void {
      this.destroy();
      for (const socket of this.opening) socket.destroy();
    }
  }

  return { DetachedHttpsAgent, TunnellingAgent };
}

/** A failure below HTTP: the request produced no status. `code` is Node's (ECONNRESET, HPE_…, a certificate's) or ours. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Node's agent refs a socket while it carries a request; these never are: a background export must
 * not keep the process alive. Whoever waits for an answer holds the process through that request's
 * own timer instead.
 *
 * Node hands a Buffer body to socket.write, which keeps reading that memory until the write
 * completes; a response can end before then (an early answer), and the exporter reuses the memory
 * once released. So the payload's owner hears when its writes start and end, and when the
 * connection they go to is open (`ready`: connected, or its TLS handshake done).
 */
function detached<S extends Socket>(socket: S, ready: 'connect' | 'secureConnect'): S {
  const unref = socket.unref.bind(socket);
  unref();
  socket.ref = () => socket;
  // Trying the addresses of a name in turn (autoSelectFamily) gives each attempt a new handle.
  socket.on('connectionAttempt', unref);
  socket.once('connect', unref);
  let open = false;
  let waiting: PayloadWrites[] = [];
  socket.once(ready, () => {
    open = true;
    for (const owner of waiting) owner.onConnection();
    waiting = [];
  });
  type Done = (error?: Error | null) => void;
  const write = socket.write as (chunk: unknown, encoding?: unknown, callback?: Done) => boolean;
  socket.write = function (this: S, chunk: unknown, encoding?: unknown, callback?: Done): boolean {
    const owner = typeof chunk === 'object' && chunk !== null ? payloadWrites.get(chunk) : undefined;
    if (owner === undefined) return write.call(this, chunk, encoding, callback);
    if (open) owner.onConnection();
    else waiting.push(owner);
    const done = typeof encoding === 'function' ? (encoding as Done) : callback;
    owner.writeStarted();
    return write.call(this, chunk, typeof encoding === 'function' ? undefined : encoding, (error?: Error | null) => {
      owner.writeEnded();
      done?.(error);
    });
  } as S['write'];
  return socket;
}
