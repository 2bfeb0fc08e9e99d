// A tight-loop burst: how many arrive, how much memory it takes, and (black hole) how close()
// ends and where the records went. argv: <events> <accept|blackhole> <ours|stock>
// 'stock' is the OpenTelemetry pipeline (Logger.emit + BatchLogRecordProcessor + OTLP/HTTP JSON),
// given a queue big enough to hold the burst, as a baseline measured the same way.
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAstralog } from '../../src/index.ts';
import { total } from '../../src/processor/drop-report.ts';
import { loginAttributes } from '../payload.ts';
import { forkReceiver } from '../receiver-client.ts';

const events = Number(process.argv[2] ?? 100_000);
const mode = (process.argv[3] ?? 'accept') as 'accept' | 'blackhole';
const pipeline = process.argv[4] ?? 'ours';
const receiver = await forkReceiver(pipeline === 'stock' ? 'otlp' : mode);

interface Pipeline {
  log(i: number): void;
  close(): Promise<void>;
  stats(): Record<string, unknown> | undefined;
}

function ours(): Pipeline {
  const log = createAstralog({ apiKey: 'bench-key', endpoint: receiver.url, service: 'bench' });
  return {
    log: (i) => log.info('user logged in', loginAttributes(i)),
    close: () => log.close(),
    stats: () => {
      const s = log.stats();
      return {
        emitted: s.emitted, exported: s.exported, dropped: s.dropped, queued: s.queued, inFlight: s.inFlight,
        identityHolds: s.emitted === s.exported + total(s.dropped) + s.queued + s.inFlight,
      };
    },
  };
}

function stock(): Pipeline {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.url }), maxQueueSize: events, maxExportBatchSize: 512 })],
  });
  const logger = provider.getLogger('bench');
  return {
    log: (i) =>
      logger.emit({
        severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'user logged in',
        attributes: loginAttributes(i),
      }),
    close: () => provider.shutdown(),
    stats: () => undefined,
  };
}

const p = pipeline === 'stock' ? stock() : ours();
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const rssBefore = process.memoryUsage.rss();
let rssPeak = rssBefore;
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 5);

const started = performance.now();
for (let i = 0; i < events; i++) p.log(i);
const loopMs = performance.now() - started;
rssPeak = Math.max(rssPeak, process.memoryUsage.rss());

const rssOverTime: number[] = [];
if (mode === 'blackhole') {
  // Hold the app open a while with exports stuck, as a service would, sampling memory.
  for (let s = 0; s < 5; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    rssOverTime.push(mb(process.memoryUsage.rss() - rssBefore));
  }
}
const closeStarted = performance.now();
await p.close();
const closeMs = performance.now() - closeStarted;
clearInterval(sampler);
rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
const delivered = await receiver.count();
await receiver.close();

process.stdout.write(
  JSON.stringify({
    scenario: `burst-${mode}-${pipeline}`,
    events,
    loopMs: Math.round(loopMs),
    delivered,
    stats: p.stats(),
    rssGrowthPeakMB: mb(rssPeak - rssBefore),
    rssGrowthOverTimeMB: rssOverTime,
    closeMs: Math.round(closeMs),
  }) + '\n',
);
