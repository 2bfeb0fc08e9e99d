// One hot-path scenario per process: ns per logging call, timed over the calls only.
// Calls run in chunks; between chunks the event loop turns, so every contender's background
// export work runs (untimed) and no queue overflows into a cheaper drop path.
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { SeverityNumber } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import pino from 'pino';
import winston from 'winston';
import { AstralogBatchLogRecordProcessor, createAstralog, type Astralog } from '../../src/index.ts';
import { astralogStream } from '../../src/integrations/pino.ts';
import { AstralogTransport } from '../../src/integrations/winston.ts';
import { forkReceiver } from '../receiver-client.ts';
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

/** The client exporting to an in-process counting receiver; checks on close that every call arrived. */
async function withClient(time: (client: Astralog) => Promise<number>): Promise<number> {
  const receiver = await startCountingReceiver();
  const client = createAstralog({ apiKey: 'bench-key', endpoint: receiver.url, service: 'bench' });
  const ns = await time(client);
  await client.close();
  const stats = client.stats();
  if (stats.exported !== stats.emitted || receiver.events() !== stats.emitted) {
    throw new Error(`client lost records: ${JSON.stringify(stats)}, receiver counted ${receiver.events()}`);
  }
  await receiver.close();
  return ns;
}

const devNull = () => pino.destination({ dest: '/dev/null', sync: true });

/**
 * A synchronous burst: `calls` calls in one loop, no await, as a request handler or a job that logs
 * in a tight loop does. Nothing of the pipeline runs until the loop ends; what the calls leave
 * behind (records held, garbage) is theirs. Peak RSS growth is sampled after the loop.
 */
async function timeSyncBurst(call: (i: number) => void): Promise<{ ns: number; rssGrowthMB: number }> {
  // Warmed up as the other hot-path rows are (the same calls, in chunks, the loop turning between).
  for (let i = 0; i < WARMUP; i += CHUNK) {
    for (let j = 0; j < CHUNK; j++) call(i + j);
    await yieldLoop();
  }
  await new Promise((r) => setTimeout(r, 100)); // the warm-up's exports leave
  const rssBefore = process.memoryUsage.rss();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) call(i);
  const ns = Number(process.hrtime.bigint() - start) / calls;
  return { ns, rssGrowthMB: Math.round((process.memoryUsage.rss() - rssBefore) / 2 ** 20) };
}
let burst: { ns: number; rssGrowthMB: number } | undefined;
let lastBuilt: object | undefined;
const kept: object[] = [];

let nsPerCall: number;
switch (scenario) {
  case 'stock-emit-sync': {
    const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new NoopExporter() })] });
    const logger = provider.getLogger('bench');
    burst = await timeSyncBurst((i) => logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'user logged in', attributes: loginAttributes(i) }));
    nsPerCall = burst.ns;
    await provider.shutdown();
    break;
  }
  case 'stock-emit-sync-keep': {
    // The same, with a queue that keeps the whole burst (as ours does by default): what keeping costs stock.
    const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new NoopExporter(), maxQueueSize: 200_000 })] });
    const logger = provider.getLogger('bench');
    burst = await timeSyncBurst((i) => logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'user logged in', attributes: loginAttributes(i) }));
    nsPerCall = burst.ns;
    await provider.shutdown();
    break;
  }
  case 'client-info-sync':
    nsPerCall = await withClient(async (client) => {
      burst = await timeSyncBurst((i) => client.info('user logged in', loginAttributes(i)));
      return burst.ns;
    });
    break;
  case 'client-info-sync-later':
    // The same burst once the process has had four of them, each delivered before the next: V8 has
    // grown its heap by then, so keeping 100k records costs far less than the first time.
    nsPerCall = await withClient(async (client) => {
      for (let b = 0; b < 4; b++) {
        for (let i = 0; i < calls; i++) client.info('user logged in', loginAttributes(i));
        await client.flush();
      }
      burst = await timeSyncBurst((i) => client.info('user logged in', loginAttributes(i)));
      return burst.ns;
    });
    break;
  // Floors without any pipeline: the burst's own calls to loginAttributes, keeping nothing, and
  // keeping each call's object (as anything that holds one object per call until the loop ends must).
  case 'floor-keep-nothing-sync':
    burst = await timeSyncBurst((i) => (lastBuilt = loginAttributes(i)));
    nsPerCall = burst.ns;
    break;
  case 'floor-keep-object-sync':
    burst = await timeSyncBurst((i) => (kept[i] = loginAttributes(i)));
    nsPerCall = burst.ns;
    break;
  // With each call's time: the least any pipeline keeps per call; then a snapshot of each call, a
  // shallow copy of its object (the caller may reuse its own) and its time, as ours keeps.
  case 'floor-keep-object-time-sync':
  case 'floor-keep-snapshot-sync': {
    const snapshot = scenario === 'floor-keep-snapshot-sync';
    const times = new Float64Array(WARMUP + calls); // no object per call
    burst = await timeSyncBurst((i) => {
      times[i] = Date.now();
      const attributes = loginAttributes(i);
      kept[i] = snapshot ? { ...attributes } : attributes;
    });
    nsPerCall = burst.ns;
    break;
  }
  // Logging libraries: the same call (5 attributes and a message) through each destination.
  case 'pino-devnull': {
    const logger = pino(devNull());
    nsPerCall = await timeCalls((i) => logger.info(loginAttributes(i), 'user logged in'));
    break;
  }
  case 'pino-ours':
    nsPerCall = await withClient(async (client) => {
      const logger = pino(astralogStream({ client }));
      return timeCalls((i) => logger.info(loginAttributes(i), 'user logged in'));
    });
    break;
  case 'pino-stdout-and-ours':
    nsPerCall = await withClient(async (client) => {
      const logger = pino({}, pino.multistream([{ stream: devNull() }, { stream: astralogStream({ client }) }]));
      return timeCalls((i) => logger.info(loginAttributes(i), 'user logged in'));
    });
    break;
  case 'pino-otel-transport': {
    // The transport serialises on this thread and exports from a worker thread: the worker's CPU is
    // not in this number (it is in the end-to-end rows).
    const receiver = await forkReceiver('otlp');
    const transport = pino.transport({
      target: 'pino-opentelemetry-transport',
      options: {
        resourceAttributes: { 'service.name': 'bench' },
        logRecordProcessorOptions: [{ recordProcessorType: 'batch', exporterOptions: { protocol: 'http', httpExporterOptions: { url: receiver.url } } }],
      },
    });
    const logger = pino(transport);
    nsPerCall = await timeCalls((i) => logger.info(loginAttributes(i), 'user logged in'));
    // Its worker may still be exporting (what it delivers is not this row's subject): let it end
    // within its own 10 s, and stop here either way.
    transport.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      transport.once('close', resolve);
      transport.once('error', () => resolve());
      transport.end();
    });
    await receiver.close();
    break;
  }
  case 'winston-devnull': {
    const logger = winston.createLogger({ transports: [new winston.transports.Stream({ stream: createWriteStream('/dev/null') })] });
    nsPerCall = await timeCalls((i) => logger.info('user logged in', loginAttributes(i)));
    break;
  }
  case 'winston-ours':
    nsPerCall = await withClient(async (client) => {
      const logger = winston.createLogger({ transports: [new AstralogTransport({ client })] });
      return timeCalls((i) => logger.info('user logged in', loginAttributes(i)));
    });
    break;
  case 'stock-emit':
    nsPerCall = await otelEmit(new BatchLogRecordProcessor({ exporter: new NoopExporter() }));
    break;
  case 'ours-emit':
    nsPerCall = await otelEmit(new AstralogBatchLogRecordProcessor({ exporter: new NoopExporter() }));
    break;
  case 'client-info':
    // The real client, exporting over HTTP to a loopback receiver; its export work runs in the
    // untimed gaps, and the garbage it leaves is timed, as it is the client's own.
    nsPerCall = await withClient((client) => timeCalls((i) => client.info('user logged in', loginAttributes(i))));
    break;
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
process.stdout.write(JSON.stringify({ scenario, calls, nsPerCall, rssGrowthMB: burst?.rssGrowthMB, built: lastBuilt !== undefined, kept: kept.length }) + '\n');
