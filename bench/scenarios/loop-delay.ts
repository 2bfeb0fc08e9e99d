// Event-loop delay while logging at a steady rate: p50/p99 of perf_hooks.monitorEventLoopDelay.
// argv: <none|ours|stock> <eventsPerSecond> <seconds>. 'none' runs the same timer loop without
// logging: the baseline the others are compared to.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { createAstralog } from '../../src/index.ts';
import { loginAttributes } from '../payload.ts';
import { forkReceiver } from '../receiver-client.ts';

const pipeline = process.argv[2] ?? 'ours';
const rate = Number(process.argv[3] ?? 50_000);
const seconds = Number(process.argv[4] ?? 5);
const TICK_MS = 10;
const perTick = Math.round((rate * TICK_MS) / 1000);
const receiver = await forkReceiver(pipeline === 'stock' ? 'otlp' : 'accept');

let log: (i: number) => void = () => undefined;
let finish: () => Promise<void> = async () => undefined;
if (pipeline === 'ours') {
  const client = createAstralog({ apiKey: 'bench-key', endpoint: receiver.url, service: 'bench' });
  log = (i) => client.info('user logged in', loginAttributes(i));
  finish = () => client.close();
} else if (pipeline === 'stock') {
  const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: receiver.url }), maxQueueSize: rate * seconds })] });
  const logger = provider.getLogger('bench');
  log = (i) => logger.emit({ severityNumber: SeverityNumber.INFO, body: 'user logged in', attributes: loginAttributes(i) });
  finish = () => provider.shutdown();
}

const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();
let i = 0;
await new Promise<void>((resolve) => {
  const ends = Date.now() + seconds * 1000;
  const timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) log(i++);
    if (Date.now() >= ends) {
      clearInterval(timer);
      resolve();
    }
  }, TICK_MS);
});
histogram.disable();
await finish();
const delivered = await receiver.count();
await receiver.close();
const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;
process.stdout.write(
  JSON.stringify({ scenario: `loop-delay-${pipeline}`, rate, logged: pipeline === 'none' ? 0 : i, delivered, p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) }) + '\n',
);
process.exit(0);
