import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/** Fixed cost of a queued record: the record object, its time and attribute containers. */
export const RECORD_OVERHEAD_BYTES = 256;
/** Cost of a container (object, array, Map, Set) of its own, beside its contents. */
const CONTAINER_BYTES = 16;
/** Members walked in one nested value at most: enough for realistic payloads, bounded on the caller's path. */
const WALK_LIMIT = 1024;
/** A nested value that took longer to walk than this is remembered, so a shared one is walked once. */
const REMEMBER_FROM = 32;

/** A hostile record or attribute object (a throwing getter or proxy) is counted plainly: the exporter makes it safe. */
const PLAIN_ESTIMATE = RECORD_OVERHEAD_BYTES + CONTAINER_BYTES;

const remembered = new WeakMap<object, number>();

/**
 * An estimate of the bytes a queued record stands for once encoded, for the byte bound of the
 * queue: the body and attribute keys and values, strings by length, nested values walked (at
 * most WALK_LIMIT members each, so a huge one is under-estimated; the encoder caps every event at
 * maxEventBytes anyway). A large nested value is remembered by identity: an object shared by many
 * calls (a config, a big context) is walked once. Once a batch is encoded, its encoded size
 * replaces the estimates. This runs on the caller's path: scalars and strings cost a comparison.
 */
export function estimateRecordBytes(record: ReadableLogRecord): number {
  try {
    return estimateUnchecked(record.body, record.attributes);
  } catch {
    return PLAIN_ESTIMATE;
  }
}

/** The same estimate for a record given by its fields (our client's records). */
export function estimateFieldsBytes(body: unknown, attributes: Record<string, unknown>): number {
  try {
    return estimateUnchecked(body, attributes);
  } catch {
    return PLAIN_ESTIMATE;
  }
}

function estimateUnchecked(body: unknown, attributes: Record<string, unknown> | undefined): number {
  let bytes = RECORD_OVERHEAD_BYTES + estimateValue(body);
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
    case 'object': {
      if (value === null) return 8;
      if (ArrayBuffer.isView(value)) return value.byteLength;
      const known = remembered.get(value);
      if (known !== undefined) return known;
      const walk = { bytes: 0, members: 0 };
      walkValue(value, walk);
      if (walk.members >= REMEMBER_FROM) remembered.set(value, walk.bytes);
      return walk.bytes;
    }
    default:
      return 8;
  }
}

/** Adds what `value` holds to `walk`, until WALK_LIMIT members have been seen (cycles end there too). */
function walkValue(value: unknown, walk: { bytes: number; members: number }): void {
  if (walk.members++ >= WALK_LIMIT) return;
  if (typeof value === 'string') {
    walk.bytes += value.length + 2;
    return;
  }
  if (typeof value !== 'object' || value === null) {
    walk.bytes += 8;
    return;
  }
  if (ArrayBuffer.isView(value)) {
    walk.bytes += value.byteLength;
    return;
  }
  walk.bytes += CONTAINER_BYTES;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && walk.members < WALK_LIMIT; i++) walkValue(value[i], walk);
    return;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (walk.members >= WALK_LIMIT) return;
      walkValue(k, walk);
      walkValue(v, walk);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) {
      if (walk.members >= WALK_LIMIT) return;
      walkValue(v, walk);
    }
    return;
  }
  for (const key in value) {
    if (walk.members >= WALK_LIMIT) return;
    walk.bytes += key.length + 4;
    walkValue((value as Record<string, unknown>)[key], walk);
  }
}
