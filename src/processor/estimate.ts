import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/** Fixed cost of a queued record: the record object, its time and attribute containers. */
export const RECORD_OVERHEAD_BYTES = 256;
const NESTED_OBJECT_BYTES = 128;

/**
 * A cheap estimate of the memory a queued record holds, for the byte bound of the queue.
 * It counts the body and top-level attribute keys and values (strings by length, arrays by length);
 * nested objects count a fixed amount, so deep structures are under-estimated, never walked:
 * this runs on the caller's path.
 */
export function estimateRecordBytes(record: ReadableLogRecord): number {
  try {
    return estimateUnchecked(record);
  } catch {
    // A hostile attribute object (throwing proxy): the exporter will make it safe; count it plainly.
    return RECORD_OVERHEAD_BYTES + NESTED_OBJECT_BYTES;
  }
}

function estimateUnchecked(record: ReadableLogRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES + estimateValue(record.body);
  const attributes = record.attributes as Record<string, unknown> | undefined;
  if (attributes !== undefined && attributes !== null) {
    for (const key in attributes) {
      const value = attributes[key];
      // Strings and scalars inline: this loop is on the caller's path.
      bytes += key.length + (typeof value === 'string' ? value.length : typeof value === 'object' ? estimateValue(value) : 8);
    }
  }
  return bytes;
}

function estimateValue(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length;
    case 'object':
      if (value === null) return 8;
      if (Array.isArray(value)) return 16 + value.length * 16;
      if (ArrayBuffer.isView(value)) return value.byteLength;
      return NESTED_OBJECT_BYTES;
    default:
      return 8;
  }
}
