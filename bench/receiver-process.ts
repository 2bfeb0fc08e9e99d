// A loopback receiver in its own process (started with fork), so the measured process carries
// only its own work. argv[2]: 'accept' | 'blackhole' (Astralog contract) or 'otlp' (OTLP/HTTP JSON
// logs, for the stock pipeline). Answers { accepted } to the IPC message 'count'.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startReceiver } from '../test/support/receiver.ts';

const mode = process.argv[2] ?? 'accept';
let accepted = 0;
let url: string;
let close: () => Promise<void>;
/** Folds events the receiver holds into the count (it must not keep them all in memory). */
let fold = (): void => undefined;

if (mode === 'otlp') {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: unknown[] }> }>;
        };
        for (const rl of body.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) accepted += sl.logRecords?.length ?? 0;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
  close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
} else {
  const receiver = await startReceiver({
    apiKey: 'bench-key',
    behaviour: () => (mode === 'blackhole' ? { kind: 'blackhole' } : { kind: 'accept' }),
  });
  fold = () => {
    accepted += receiver.accepted.length;
    receiver.accepted.length = 0;
    receiver.requests.length = 0;
  };
  setInterval(fold, 50).unref();
  url = receiver.url;
  close = () => receiver.close();
}

process.on('message', (message) => {
  if (message === 'count') {
    fold();
    process.send?.({ accepted });
  }
  if (message === 'close') void close().then(() => process.exit(0));
});
process.send?.({ ready: true, url });
