// Memory held against the byte bound with large shared nested values and an endpoint that never
// answers: 25,000 calls whose metadata refers to one shared object of about 120 KB once encoded,
// logged in chunks of 500. argv: <ours|stock>. 'ours' runs with maxQueueBytes 16 MiB; 'stock' is
// Logger.emit + BatchLogRecordProcessor (defaults) + the OTLP/HTTP JSON exporter.
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAstralog } from '../../src/index.ts';
import { total } from '../../src/processor/drop-report.ts';
import { forkChild } from '../receiver-client.ts';

const pipeline = process.argv[2] ?? 'ours';
const CALLS = 25_000;
const CHUNK = 500;
const BUDGET = 16 * 1024 * 1024;
const MB = 1024 * 1024;

// The endpoint: reads every request, never answers.
// In another process: the bytes it reads must not count in this process's RSS.
const hole = await forkChild<{ url: string }>('black-hole-process.ts', []);
const url = hole.ready.url;

const context: Record<string, string> = {};
for (let i = 0; i < 400; i++) context[`field_${i}`] = `${i}`.padEnd(300, 'x');

let log: (i: number) => void;
let held: () => number = () => 0;
let close: () => Promise<void>;
let stats: () => unknown = () => undefined;
if (pipeline === 'ours') {
  const client = createAstralog({ apiKey: 'bench-key', endpoint: url, service: 'bench', maxQueueBytes: BUDGET, exportTimeoutMs: 60_000, shutdownTimeoutMs: 500 });
  log = (i) => client.info('with context', { seq: i, context });
  held = () => {
    const s = client.stats();
    return s.queuedBytes + s.inFlightBytes;
  };
  close = () => client.close();
  stats = () => {
    const s = client.stats();
    return { emitted: s.emitted, dropped: total(s.dropped), queueFull: s.dropped.queueFull, identityHolds: s.emitted === s.exported + total(s.dropped) + s.queued + s.inFlight };
  };
} else {
  const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${url}/v1/logs`, timeoutMillis: 60_000 }) })] });
  const logger = provider.getLogger('bench');
  log = (i) => logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'with context', attributes: { seq: i, context } });
  close = () => Promise.race([provider.shutdown(), new Promise<void>((resolve) => setTimeout(resolve, 500))]);
}

const rssBefore = process.memoryUsage().rss;
let rssPeak = rssBefore;
let heldPeak = 0;
const sample = () => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  heldPeak = Math.max(heldPeak, held());
};
for (let i = 0; i < CALLS; i += CHUNK) {
  for (let j = i; j < i + CHUNK; j++) log(j);
  await new Promise((resolve) => setImmediate(resolve));
  sample();
}
// While the exports hang.
for (let t = 0; t < 20; t++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  sample();
}
const result = { scenario: `nested-blackhole-${pipeline}`, calls: CALLS, budgetMB: pipeline === 'ours' ? BUDGET / MB : undefined, rssGrowthPeakMB: Math.round(((rssPeak - rssBefore) / MB) * 10) / 10, heldPeakMB: Math.round((heldPeak / MB) * 10) / 10, stats: stats() };
await close();
await hole.close();
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
