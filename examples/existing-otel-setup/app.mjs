// An app that already runs the OpenTelemetry NodeSDK adds Astralog as a log record processor.
// Run it against a local receiver: node examples/run.mjs existing-otel-setup
import { logs, SeverityNumber, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import { AstralogBatchLogRecordProcessor, AstralogLogRecordExporter } from '@astralog/otel';

const sdk = new NodeSDK({
  serviceName: 'orders',
  // Your span processors/exporters stay as they are; this example keeps spans in-process.
  spanProcessors: [new NoopSpanProcessor()],
  logRecordProcessors: [
    new AstralogBatchLogRecordProcessor({
      exporter: new AstralogLogRecordExporter({
        apiKey: process.env.ASTRALOG_API_KEY ?? 'default-secret-token',
        endpoint: process.env.ASTRALOG_ENDPOINT ?? 'http://127.0.0.1:8080',
      }),
    }),
  ],
});
sdk.start();

const logger = logs.getLogger('orders');
trace.getTracer('orders').startActiveSpan('POST /orders', (span) => {
  logger.emit({ severityNumber: SeverityNumber.INFO, body: 'order received', attributes: { order_id: 'ord_42', items: 2 } });
  logger.emit({ severityNumber: SeverityNumber.WARN, body: 'stock low', attributes: { sku: 'sku_7', left: 1 } });
  console.log(`trace ${span.spanContext().traceId}`);
  span.end();
});
logger.emit({ severityText: 'INFO', body: 'nightly report sent', attributes: { trace_id: 'job-2026-11-28' } });

await sdk.shutdown(); // flushes our processor like any other
