/**
 * An HTTP proxy on 127.0.0.1 for the proxy tests: it forwards absolute-form requests (an http
 * endpoint) and opens CONNECT tunnels (an https one). Whatever host a request names, the proxy
 * connects to that port on 127.0.0.1, so tests can use names (`ingest.test`) that never resolve
 * anywhere: only the proxy could have reached them. Optionally it requires Basic credentials, and
 * speaks TLS to its clients (an https:// proxy).
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { listenOnLoopback } from './listen.ts';

export interface ProxiedRequest {
  /** 'CONNECT' for a tunnel, else the forwarded request's method. */
  method: string;
  /** The request target as the client wrote it: `host:port` for CONNECT, an absolute URL otherwise. */
  target: string;
  headers: IncomingHttpHeaders;
  /** Whether the proxy let it through (credentials, when required, were right). */
  allowed: boolean;
}

export interface TestProxy {
  /** `http(s)://127.0.0.1:<port>` (credentials not included). */
  url: string;
  port: number;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startProxy(options: { user?: string; password?: string; tls?: { cert: string; key: string } } = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const expected = options.user === undefined ? undefined : `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
  const allowed = (headers: IncomingHttpHeaders) => expected === undefined || headers['proxy-authorization'] === expected;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    const ok = allowed(req.headers);
    requests.push({ method: req.method ?? '', target, headers: req.headers, allowed: ok });
    if (!ok) {
      req.resume();
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': '0' }).end();
      return;
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      req.resume();
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest({ host: '127.0.0.1', port: Number(url.port || 80), method: req.method, path: `${url.pathname}${url.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502, { 'content-length': '0' }).end());
    req.pipe(upstream);
  };
  const server = options.tls === undefined ? createServer(onRequest) : createTlsServer(options.tls, onRequest);
  server.on(options.tls === undefined ? 'connection' : 'secureConnection', track);
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const ok = allowed(req.headers);
    requests.push({ method: 'CONNECT', target, headers: req.headers, allowed: ok });
    if (!ok) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const port = Number(/:(\d+)$/.exec(target)?.[1] ?? 443);
    const upstream = connect(port, '127.0.0.1');
    track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await listenOnLoopback(server);
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      if (server.listening) {
        server.close();
        await once(server, 'close');
      }
    },
  };
}
