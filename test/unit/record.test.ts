import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { AstralogLogRecord } from '../../src/record.ts';

const origin = { resource: resourceFromAttributes({ 'service.name': 'checkout' }), instrumentationScope: { name: 'scope', version: '1' } };
const warn = { text: 'warn', severity: 13 };

describe('AstralogLogRecord', () => {
  it('reads as an OTel ReadableLogRecord', () => {
    const record = new AstralogLogRecord(1_790_000_000_123, warn, 'slow', { a: 1 }, undefined, origin);
    expect(record.severityText).toBe('warn');
    expect(record.severityNumber).toBe(13);
    expect(record.resource).toBe(origin.resource);
    expect(record.instrumentationScope).toBe(origin.instrumentationScope);
    expect(record.droppedAttributesCount).toBe(0);
    expect(record.hrTime).toEqual([1_790_000_000, 123_000_000]);
    expect(record.hrTimeObserved).toEqual(record.hrTime);
  });

  it('keeps nanoseconds below a second when a fraction rounds up', () => {
    expect(new AstralogLogRecord(999.9999999, warn, '', {}, undefined, origin).hrTime).toEqual([1, 0]);
    expect(new AstralogLogRecord(1_500.0000004, warn, '', {}, undefined, origin).hrTime).toEqual([1, 500_000_000]);
  });
});
