import type { Server } from 'node:net';

/** Listens on 127.0.0.1 at a free port; resolves with the port, rejects on a listen error. */
export function listenOnLoopback(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
