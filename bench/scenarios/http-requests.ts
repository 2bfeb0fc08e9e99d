// CPU per request body sent, the transport alone: our HttpTransport (node:http underneath) vs plain http.request with a
// keep-alive agent doing the same job (send, read the status, drain the answer). One real
// request body of 500 encoded events (the most Astralog recommends per request), to a loopback
// receiver in another process, 8 requests at a time (the default maxConcurrentExports).
// argv: <ours|node-http> <requests>
import http from 'node:http';
import { AstralogLogRecordExporter } from '../../src/exporter/exporter.ts';
import { HttpTransport } from '../../src/exporter/transport.ts';
import { PREPARE_SYNC_DELIVERY } from '../../src/protocol.ts';
import { makeRecord } from '../../test/support/records.ts';
import { loginAttributes } from '../payload.ts';
import { forkReceiver } from '../receiver-client.ts';

const contender = process.argv[2] ?? 'ours';
const requests = Number(process.argv[3] ?? 1600);
const EVENTS_PER_REQUEST = 500;
const CONCURRENCY = 8;
const WARMUP = 100;

const receiver = await forkReceiver('accept');
const url = new URL(receiver.url);

// The request body exactly as the exporter builds it (its last-delivery path gives it back).
const records = Array.from({ length: EVENTS_PER_REQUEST }, (_, i) =>
  makeRecord({ hrTime: [1_764_300_000, i * 1000], body: 'user logged in', severityText: 'INFO', attributes: loginAttributes(i) }),
);
const bodies = new AstralogLogRecordExporter({ apiKey: 'bench-key', endpoint: receiver.url, service: 'bench' })[PREPARE_SYNC_DELIVERY](records).bodies;
if (bodies.length !== 1) throw new Error(`expected one request body, got ${bodies.length}`);
const body = bodies[0] as Buffer;

let send: () => Promise<number>;
if (contender === 'ours') {
  const transport = new HttpTransport({ url: url.href, apiKey: 'bench-key', headers: {}, compression: 'none', ca: undefined, proxy: undefined });
  const signal = new AbortController().signal;
  send = async () => (await transport.send(body, { timeoutMs: 10_000, signal })).status;
} else {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-key', 'content-length': String(body.length) };
  send = () =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      });
      req.on('error', reject);
      req.end(body);
    });
}

async function sendAll(n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < n) {
        const status = await send();
        if (status !== 202) throw new Error(`receiver answered ${status}`);
      }
    }),
  );
}

await sendAll(WARMUP);
const cpuStart = process.cpuUsage();
await sendAll(requests);
const cpu = process.cpuUsage(cpuStart);
await receiver.close();
process.stdout.write(
  JSON.stringify({
    scenario: `http-requests-${contender}`,
    requests,
    requestBytes: body.length,
    cpuUsPerRequest: Math.round((cpu.user + cpu.system) / requests),
    systemUsPerRequest: Math.round(cpu.system / requests),
  }) + '\n',
);
process.exit(0);
