import { context, SeverityNumber, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AstralogLogRecordExporter } from '../../src/index.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

let receiver: Receiver;
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  context.disable();
  await receiver.close();
});

describe('our exporter behind the stock OTel pipeline', () => {
  it('delivers records with the active span trace id, and promotes an explicit trace_id', async () => {
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, projectId: 'org-xyz' });
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'payment-gateway' }),
      processors: [new BatchLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('payments');
    const tracer = new TracerProvider().getTracer('payments');

    let spanTraceId = '';
    let spanId = '';
    await tracer.startActiveSpan('charge', async (span) => {
      spanTraceId = span.spanContext().traceId;
      spanId = span.spanContext().spanId;
      await new Promise((r) => setTimeout(r, 5)); // the span stays active across an await
      logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'Payment failed: upstream timeout', attributes: { latency_ms: 5040 } });
      span.end();
    });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'retry scheduled', attributes: { trace_id: 'req-5f8a9b2c', user_id: 'usr_987654' } });
    expect(trace.getActiveSpan()).toBeUndefined();
    await provider.shutdown();

    expect(receiver.requests).toHaveLength(1);
    const body = receiver.requests[0]!.json as { events: Array<Record<string, unknown>> };
    expect(body.events).toMatchObject([
      {
        level: 'error', message: 'Payment failed: upstream timeout', service: 'payment-gateway', trace_id: spanTraceId,
        project_id: 'org-xyz', metadata: { latency_ms: 5040, span_id: spanId },
      },
      { level: 'info', message: 'retry scheduled', trace_id: 'req-5f8a9b2c', metadata: { user_id: 'usr_987654' } },
    ]);
    expect(spanTraceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.events[1]!.metadata).not.toHaveProperty('trace_id');
  });
});
