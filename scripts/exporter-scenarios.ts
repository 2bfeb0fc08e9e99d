// The exporter at work against a local Astralog-compatible receiver on 127.0.0.1 (no account needed):
// 1. the stock OTel BatchLogRecordProcessor wrapping our exporter, with a span and an explicit trace_id;
// 2. delivery under faults: 503 on every third request, 429 with Retry-After, a refused key.
import { context, SeverityNumber } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { AstralogLogRecordExporter } from '../src/index.ts';
import { exportOnce } from '../test/support/exporting.ts';
import { everyNth, sequence, startReceiver, type Receiver } from '../test/support/receiver.ts';
import { makeRecords } from '../test/support/records.ts';

const KEY = 'ast_sk_live_demo0123456789';
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

async function stockPipeline(receiver: Receiver): Promise<void> {
  heading('stock BatchLogRecordProcessor -> AstralogLogRecordExporter -> POST /v1/drain');
  const exporter = new AstralogLogRecordExporter({ apiKey: KEY, endpoint: receiver.url, projectId: 'org-xyz' });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'payment-gateway' }),
    processors: [new BatchLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('payments');
  const tracer = new TracerProvider().getTracer('payments');
  await tracer.startActiveSpan('POST /charge', async (span) => {
    await new Promise((r) => setTimeout(r, 1));
    logger.emit({ severityNumber: SeverityNumber.ERROR, body: 'Payment processing failed due to upstream timeout', attributes: { user_id: 'usr_987654', latency_ms: 5040 } });
    process.stdout.write(`active span trace id: ${span.spanContext().traceId}\n`);
    span.end();
  });
  logger.emit({ severityText: 'INFO', body: 'refund queued', attributes: { trace_id: 'req-5f8a9b2c', password: 'hunter2', err: 'see metadata' } });
  await provider.shutdown();
  for (const request of receiver.requests) {
    process.stdout.write(`${request.method} ${request.path} -> ${request.status}\n${JSON.stringify(request.json, null, 2)}\n`);
  }
}

function summary(receiver: Receiver): string {
  const seqs = (receiver.accepted as Array<{ metadata: { seq: number } }>).map((e) => e.metadata.seq);
  const statuses: Record<string, number> = {};
  for (const r of receiver.requests) statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
  return `requests ${receiver.requests.length} ${JSON.stringify(statuses)}; events received ${seqs.length}, distinct ${new Set(seqs).size}`;
}

async function faultScenarios(): Promise<void> {
  heading('1000 records, the endpoint answers 503 to every third request');
  let receiver = await startReceiver({ apiKey: KEY, behaviour: everyNth(3, { kind: 'status', status: 503 }) });
  let exporter = new AstralogLogRecordExporter({ apiKey: KEY, endpoint: receiver.url });
  const codes = await Promise.all(Array.from({ length: 10 }, async (_, b) => (await exportOnce(exporter, makeRecords(100, {}, b * 100))).code));
  process.stdout.write(`export results: ${codes.filter((c) => c === 0).length}/10 SUCCESS; ${summary(receiver)}\n`);
  process.stdout.write(`exporter stats: ${JSON.stringify(exporter.stats())}\n`);
  await exporter.shutdown();
  await receiver.close();

  heading('two 429s with Retry-After: 1');
  const throttled = { kind: 'status', status: 429, headers: { 'retry-after': '1' } } as const;
  receiver = await startReceiver({ apiKey: KEY, behaviour: sequence(throttled, throttled) });
  exporter = new AstralogLogRecordExporter({ apiKey: KEY, endpoint: receiver.url });
  const started = Date.now();
  const { code } = await exportOnce(exporter, makeRecords(10));
  const times = receiver.requests.map((r) => r.receivedAt - started);
  process.stdout.write(`result ${code === 0 ? 'SUCCESS' : 'FAILED'} after ${Date.now() - started} ms; requests at +${times.join(' ms, +')} ms; ${summary(receiver)}\n`);
  await exporter.shutdown();
  await receiver.close();

  heading('401: the key is refused');
  receiver = await startReceiver({ apiKey: 'the-real-key' });
  exporter = new AstralogLogRecordExporter({ apiKey: KEY, endpoint: receiver.url });
  process.stdout.write('(what the user sees on stderr follows)\n');
  const results = [];
  for (let i = 0; i < 5; i++) results.push((await exportOnce(exporter, makeRecords(20, {}, i * 20))).code);
  process.stdout.write(`5 exports of 20 records: results ${JSON.stringify(results)} (1 = FAILED); ${summary(receiver)}\n`);
  process.stdout.write(`exporter stats: ${JSON.stringify(exporter.stats())}\n`);
  await exporter.shutdown();
  await receiver.close();
}

const receiver = await startReceiver({ apiKey: KEY });
await stockPipeline(receiver);
await receiver.close();
await faultScenarios();
