// One hot-path scenario per process: ns per logging call, timed over the calls only.
// Calls run in chunks; between chunks the event loop turns, so every contender's background
// export work runs (untimed) and no queue overflows into a cheaper drop path.
import { createServer } from 'node:http';
import { SeverityNumber } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AstralogBatchLogRecordProcessor, createAstralog } from '../../src/index.ts';
import { loginAttributes } from '../payload.ts';
import { listenOnLoopback } from '../../test/support/listen.ts';
import { ACCEPTED_BODY, checkHeaders, DRAIN_PATH } from '../../src/receiver/contract.ts';

const scenario = process.argv[2];
const calls = Number(process.argv[3] ?? 1_000_000);
const CHUNK = 500;
const WARMUP = 20_000;

class NoopExporter implements LogRecordExporter {
  export(_records: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

/**
 * A receiver in this process that counts events without parsing them. In production the receiver
 * is elsewhere: a parsing receiver here would leave its garbage to be collected inside the timed
 * calls, and one in another process would compete with them for the machine's two cores.
 * (The end-to-end scenarios check every event with a parsing receiver.)
 */
async function startCountingReceiver(): Promise<{ url: string; events: () => number; close: () => Promise<void> }> {
  const EVENT_START = Buffer.from('{"timestamp":"'); // escaped inside strings, so only events start so
  let events = 0;
  const server = createServer((req, res) => {
    const refusal = checkHeaders(req.headers, 'bench-key');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (refusal !== undefined) return void res.writeHead(refusal.status).end();
      const body = Buffer.concat(chunks);
      for (let at = body.indexOf(EVENT_START); at !== -1; at = body.indexOf(EVENT_START, at + EVENT_START.length)) events++;
      res.writeHead(202, { 'content-type': 'application/json' }).end(ACCEPTED_BODY);
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}${DRAIN_PATH}`,
    events: () => events,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const yieldLoop = () => new Promise((r) => setImmediate(r));

async function timeCalls(call: (i: number) => void): Promise<number> {
  for (let i = 0; i < WARMUP; i += CHUNK) {
    for (let j = 0; j < CHUNK; j++) call(i + j);
    await yieldLoop();
  }
  let total = 0n;
  for (let i = 0; i < calls; i += CHUNK) {
    const start = process.hrtime.bigint();
    for (let j = 0; j < CHUNK; j++) call(i + j);
    total += process.hrtime.bigint() - start;
    await yieldLoop();
  }
  return Number(total) / calls;
}

async function otelEmit(processor: LogRecordProcessor): Promise<number> {
  const provider = new LoggerProvider({ processors: [processor] });
  const logger = provider.getLogger('bench');
  const ns = await timeCalls((i) =>
    logger.emit({
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'user logged in',
      attributes: loginAttributes(i),
    }),
  );
  await provider.shutdown();
  return ns;
}

let nsPerCall: number;
switch (scenario) {
  case 'stock-emit':
    nsPerCall = await otelEmit(new BatchLogRecordProcessor({ exporter: new NoopExporter() }));
    break;
  case 'ours-emit':
    nsPerCall = await otelEmit(new AstralogBatchLogRecordProcessor({ exporter: new NoopExporter() }));
    break;
  case 'client-info': {
    // The real client, exporting over HTTP to a loopback receiver; its export work runs in the
    // untimed gaps, and the garbage it leaves is timed, as it is the client's own.
    const receiver = await startCountingReceiver();
    const log = createAstralog({ apiKey: 'bench-key', endpoint: receiver.url, service: 'bench' });
    nsPerCall = await timeCalls((i) => log.info('user logged in', loginAttributes(i)));
    await log.close();
    const stats = log.stats();
    if (stats.exported !== stats.emitted || receiver.events() !== stats.emitted) {
      throw new Error(`client lost records: ${JSON.stringify(stats)}, receiver counted ${receiver.events()}`);
    }
    await receiver.close();
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
process.stdout.write(JSON.stringify({ scenario, calls, nsPerCall }) + '\n');
