// End to end to a loopback receiver in another process: events/s and CPU per delivered event.
// argv: <ours|stock|pino|ours-records|ours-encoded> <events> (the last two: see cutShort). The app logs in chunks of 1000, letting the event loop turn
// between chunks as a service would; the clock and the CPU meter stop once every event was sent
// (close/shutdown/flush returned) and the receiver's count is read. A run that loses events is
// reported with its delivered count, never as fast.
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import pino from 'pino';
import { HttpTransport, type SendOptions } from '../../src/exporter/transport.ts';
import { PREPARE_EXPORT } from '../../src/protocol.ts';
import { createAstralog } from '../../src/index.ts';
import { loginAttributes } from '../payload.ts';
import { forkReceiver } from '../receiver-client.ts';

const pipeline = process.argv[2] ?? 'ours';
const events = Number(process.argv[3] ?? 200_000);
const CHUNK = 1000;
const receiver = await forkReceiver(pipeline.startsWith('ours') ? 'accept' : 'otlp');

interface Contender {
  log(i: number): void;
  /** Resolves once everything logged has been sent. */
  finish(): Promise<void>;
  /** For a pipeline cut short of the network: how many events reached the cut. */
  exported?: () => number;
}

function ours(): Contender {
  // Like the stock contender, a queue big enough to drop nothing: this scenario measures the cost of
  // delivering, and an 800k burst at this rate outgrows the default bounds (the burst scenario
  // measures those). Default settings otherwise.
  const log = createAstralog({ apiKey: 'bench-key', endpoint: receiver.url, service: 'bench', maxQueueSize: Math.max(200_000, events), maxQueueBytes: 2 ** 30 });
  const contender: Contender = { log: (i) => log.info('user logged in', loginAttributes(i)), finish: () => log.close() };
  if (pipeline !== 'ours-records' && pipeline !== 'ours-encoded') return contender;
  const reachedCut = cutShort(log, pipeline);
  return {
    ...contender,
    exported: () => {
      // A pipeline that goes around the stubs must stop the bench too.
      if (reachedCut() === 0) throw new Error(`cutShort: no batch reached the ${pipeline} cut`);
      return log.stats().exported;
    },
  };
}

/**
 * For the cost breakdown: the same client with its pipeline cut short, through its private parts
 * (a bench-only seam). 'ours-records' ends at the exporter: each batch succeeds at once, unencoded.
 * 'ours-encoded' encodes each batch into a request body, then answers 202 without sending it.
 * Delivered then means "reached the cut" (the client's own count): the cost up to there is measured.
 */
function cutShort(log: object, stage: 'ours-records' | 'ours-encoded'): () => number {
  const exporter = (log as unknown as { exporter: Record<PropertyKey, unknown> }).exporter;
  let reached = 0;
  // A renamed private part must stop the bench, not let it measure the whole pipeline unnoticed.
  const replace = <A extends unknown[], R>(owner: Record<PropertyKey, unknown> | undefined, name: PropertyKey, stub: (...args: A) => R) => {
    if (typeof owner?.[name] !== 'function') throw new Error(`cutShort: ${String(name)} is not where the bench expects it`);
    owner[name] = (...args: A): R => {
      reached++;
      return stub(...args);
    };
  };
  if (stage === 'ours-records') {
    const delivered = { rejected: { badRequest: 0, tooLarge: 0 }, failed: [], failureReason: undefined };
    replace(exporter, PREPARE_EXPORT, (records: unknown[]) => ({ start: () => Promise.resolve({ ...delivered, delivered: records.length }), encoded: undefined }));
  } else {
    // The transport is the exporter's #private part: its class is stubbed instead (one client in this process).
    replace(HttpTransport.prototype as unknown as Record<PropertyKey, unknown>, 'send', async (_payload: Buffer, options: SendOptions) => {
      options.onReleased?.();
      return { status: 202, retryAfter: undefined, body: '' };
    });
  }
  return () => reached;
}

function stock(): Contender {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    // A queue big enough to drop nothing: with the default 2048 the stock processor loses most of a burst.
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.url }), maxQueueSize: events })],
  });
  const logger = provider.getLogger('bench');
  return {
    log: (i) => logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'user logged in', attributes: loginAttributes(i) }),
    finish: () => provider.shutdown(),
  };
}

function pinoOtel(): Contender {
  // OTLP/HTTP JSON like the others, and a queue big enough to drop nothing: the transport's stock
  // processor ignores OTEL_BLRP_* and its default 2048-record queue silently loses most of a burst.
  const transport = pino.transport({
    target: 'pino-opentelemetry-transport',
    options: {
      resourceAttributes: { 'service.name': 'bench' },
      logRecordProcessorOptions: [
        { recordProcessorType: 'batch', exporterOptions: { protocol: 'http', httpExporterOptions: { url: receiver.url } }, processorConfig: { maxQueueSize: events } },
      ],
    },
  });
  const logger = pino(transport);
  return {
    log: (i) => logger.info(loginAttributes(i), 'user logged in'),
    finish: async () => {
      // The transport runs in a worker thread: wait until the receiver has everything (or 30 s).
      // (logger.flush() here deadlocks pino's thread-stream under this load, so it is not called.)
      for (let waited = 0; waited < 30_000; waited += 50) {
        const got = await receiver.count();
        if (got >= events) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      transport.end();
    },
  };
}

const contender = pipeline === 'stock' ? stock() : pipeline === 'pino' ? pinoOtel() : ours();
const cpuStart = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < events; i += CHUNK) {
  for (let j = i; j < i + CHUNK && j < events; j++) contender.log(j);
  await new Promise((r) => setImmediate(r));
}
await contender.finish();
const delivered = contender.exported?.() ?? (await receiver.count());
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
await receiver.close();

process.stdout.write(
  JSON.stringify({
    scenario: `throughput-${pipeline}`,
    events,
    delivered,
    wallMs: Math.round(wallMs),
    eventsPerSecond: Math.round((delivered / wallMs) * 1000),
    cpuUsPerDeliveredEvent: delivered === 0 ? null : Math.round(((cpu.user + cpu.system) / delivered) * 100) / 100,
  }) + '\n',
);
process.exit(0);
