// A TCP endpoint that reads every byte sent to it and never answers, in a process of its own so
// that what it reads (garbage until its collector runs) never counts in the measured process's RSS.
import { createServer, type Socket } from 'node:net';
import { listenOnLoopback } from '../test/support/listen.ts';

const sockets = new Set<Socket>();
const hole = createServer((socket) => {
  sockets.add(socket);
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
});
const port = await listenOnLoopback(hole);
const close = () => {
  for (const socket of sockets) socket.destroy();
  hole.close(() => process.exit(0));
};
process.on('message', (message) => {
  if (message === 'close') close();
});
process.on('disconnect', close);
process.send?.({ url: `http://127.0.0.1:${port}` });
