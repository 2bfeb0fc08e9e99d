import type { HrTime, SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

export const testResource: Resource = resourceFromAttributes({ 'service.name': 'checkout' });

/**
 * A ReadableLogRecord built by hand, for values the OTel Logger would refuse before export
 * (Errors, BigInt, cycles): the encoder must cope with whatever a record holds.
 */
export function makeRecord(fields: Partial<Omit<ReadableLogRecord, 'attributes'>> & { attributes?: Record<string, unknown> } = {}): ReadableLogRecord {
  const hrTime: HrTime = fields.hrTime ?? [1_790_000_000, 123_456_789];
  return {
    hrTime,
    hrTimeObserved: fields.hrTimeObserved ?? hrTime,
    resource: fields.resource ?? testResource,
    instrumentationScope: fields.instrumentationScope ?? { name: 'test' },
    attributes: (fields.attributes ?? {}) as ReadableLogRecord['attributes'],
    droppedAttributesCount: fields.droppedAttributesCount ?? 0,
    ...(fields.body !== undefined ? { body: fields.body } : {}),
    ...(fields.severityText !== undefined ? { severityText: fields.severityText } : {}),
    ...(fields.severityNumber !== undefined ? { severityNumber: fields.severityNumber } : {}),
    ...(fields.spanContext !== undefined ? { spanContext: fields.spanContext } : {}),
    ...(fields.eventName !== undefined ? { eventName: fields.eventName } : {}),
  } as ReadableLogRecord;
}

/** `count` records with `seq` (and body `event <seq>`) from `firstSeq` on. */
export function makeRecords(count: number, fields: Parameters<typeof makeRecord>[0] = {}, firstSeq = 0): ReadableLogRecord[] {
  return Array.from({ length: count }, (_, i) => makeRecord({ body: `event ${firstSeq + i}`, ...fields, attributes: { seq: firstSeq + i, ...fields.attributes } }));
}

export const sampleSpan: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: 1,
};
