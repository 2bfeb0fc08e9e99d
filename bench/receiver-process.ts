// A loopback receiver in its own process (started with fork), so the measured process carries
// only its own work. argv[2]: 'accept' | 'blackhole' (Astralog contract) or 'otlp' (OTLP/HTTP JSON
// logs, for the stock pipelines). Answers { accepted } to the IPC message 'count'.
//
// Both accepting modes do the same job per request, so neither pipeline's receiver competes harder
// for the machine's cores: read the body, JSON.parse it, check its shape, count. (The Astralog mode
// checks the contract's headers and each event's required fields; the test double with its
// per-request bookkeeping stays in the tests.)
import { listenOnLoopback } from '../test/support/listen.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ACCEPTED_BODY, checkDrain, DRAIN_PATH } from '../src/receiver/contract.ts';
import { startReceiver } from '../test/support/receiver.ts';

const API_KEY = 'bench-key';
const mode = process.argv[2] ?? 'accept';
let accepted = 0;
let url: string;
let close: () => Promise<void>;

/** Counts the events of one request body, or says why it was refused. */
type Handler = (req: IncomingMessage, body: Buffer) => { status: number; body: string };

const otlp: Handler = (_req, body) => {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: unknown[] }> }> };
    for (const rl of parsed.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) accepted += sl.logRecords?.length ?? 0;
    return { status: 200, body: '{}' };
  } catch {
    return { status: 400, body: '' };
  }
};

const drain: Handler = (req, raw) => {
  const checked = checkDrain(req.headers, raw, API_KEY);
  if ('error' in checked) return { status: checked.status, body: JSON.stringify({ error: checked.error }) };
  accepted += checked.events.length;
  return { status: 202, body: ACCEPTED_BODY };
};

if (mode === 'blackhole') {
  const receiver = await startReceiver({ apiKey: API_KEY, behaviour: () => ({ kind: 'blackhole' }) });
  url = receiver.url;
  close = () => receiver.close();
} else {
  const handle = mode === 'otlp' ? otlp : drain;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = handle(req, Buffer.concat(chunks));
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  const port = await listenOnLoopback(server);
  url = `http://127.0.0.1:${port}${mode === 'otlp' ? '/v1/logs' : DRAIN_PATH}`;
  close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

process.on('message', (message) => {
  if (message === 'count') process.send?.({ accepted });
  if (message === 'close') void close().then(() => process.exit(0));
});
// A scenario that died (a failed check throws) must not leave its receiver behind, holding the
// bench's output pipe open until its timeout.
process.on('disconnect', () => void close().then(() => process.exit(0)));
process.send?.({ ready: true, url });
