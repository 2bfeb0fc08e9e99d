import { TracerProvider } from '@opentelemetry/sdk-trace';
import { expect } from 'vitest';

/** How a logging library under test writes the lines of logAroundSpan. */
export interface SpanLines {
  plain(message: string): void;
  /** A line whose own fields carry trace_id. */
  withTraceId(message: string, traceId: string): void;
  /** A line of a child logger bound to trace_id. */
  boundTo(traceId: string, message: string): void;
}

/**
 * Logs 'before'; then, inside an active span and after an await, 'inside', 'explicit' (trace_id
 * req-123 on the line) and 'bound' (a child bound to req-456); then 'after'. Resolves with the
 * span's ids.
 */
export async function logAroundSpan(lines: SpanLines): Promise<{ traceId: string; spanId: string }> {
  const tracer = new TracerProvider().getTracer('t');
  let ids = { traceId: '', spanId: '' };
  lines.plain('before');
  await tracer.startActiveSpan('op', async (span) => {
    ids = span.spanContext();
    await new Promise((resolve) => setImmediate(resolve)); // across an await
    lines.plain('inside');
    lines.withTraceId('explicit', 'req-123');
    lines.boundTo('req-456', 'bound');
    span.end();
  });
  lines.plain('after');
  return { traceId: ids.traceId, spanId: ids.spanId };
}

type Event = { trace_id?: string; metadata?: Record<string, unknown> };

/** The events of logAroundSpan's lines, by message: the span's ids inside it, an explicit or bound trace_id wins, none outside. */
export function expectSpanCorrelation(byMessage: Record<string, Event>, ids: { traceId: string; spanId: string }): void {
  expect(byMessage.before!.trace_id).toBeUndefined();
  expect(byMessage.inside).toMatchObject({ trace_id: ids.traceId, metadata: { span_id: ids.spanId } });
  expect(byMessage.explicit!.trace_id).toBe('req-123');
  expect(byMessage.bound!.trace_id).toBe('req-456');
  expect(byMessage.after!.trace_id).toBeUndefined();
}
