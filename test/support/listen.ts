import type { Server } from 'node:net';

/** Listens on 127.0.0.1 at `port` (a free one by default); resolves with the port, rejects on a listen error. */
export function listenOnLoopback(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
