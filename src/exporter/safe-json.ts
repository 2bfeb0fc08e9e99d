import { memberKeyBytes, type JsonBuffer } from './json-buffer.ts';
import { REDACTED, type KeyRedactor } from './redact.ts';

export interface ValueLimits {
  /** Characters kept of one string; longer ones end with a visible truncation marker. */
  maxStringLength: number;
  /** Nesting below this depth becomes a marker. */
  maxDepth: number;
  /** Array items, object keys, Map and Set entries kept of one container. */
  maxItems: number;
  /** Stop early once the event passes this many bytes (the caller re-encodes smaller). */
  budgetBytes: number;
}

const MAX_KEY_LENGTH = 256;
const REDACTED_JSON = `"${REDACTED}"`;
/** Member keys are encoded once and cached, within these bounds (keys built from data must not grow it). */
const MAX_CACHED_KEYS = 4096;
const MAX_CACHED_KEY_LENGTH = 64;
/** Top-level member positions remembered (see memberKeyAt). */
const MAX_KEY_POSITIONS = 32;

/** A member key as written (`"key":`) and whether its value is redacted. */
interface MemberKey {
  json: Uint8Array;
  sensitive: boolean;
}

/**
 * Member keys encoded and checked for redaction once: keys recur on every event. One instance
 * serves all of an encoder's writers. Long keys and keys past the cache bound (keys built from
 * data must not grow it) are not kept: writers encode and check those each time.
 */
export class MemberKeys {
  readonly redactor: KeyRedactor;
  private readonly cache = new Map<string, MemberKey>();

  constructor(redactor: KeyRedactor) {
    this.redactor = redactor;
  }

  get(key: string): MemberKey | undefined {
    const member = this.cache.get(key);
    if (member !== undefined || key.length > MAX_CACHED_KEY_LENGTH || this.cache.size >= MAX_CACHED_KEYS) return member;
    const added = { json: memberKeyBytes(key), sensitive: this.redactor.isSensitive(key) };
    this.cache.set(key, added);
    return added;
  }
}

/**
 * Writes arbitrary JavaScript values as JSON into a JsonBuffer, always valid and bounded: cycles,
 * BigInt, Errors (with cause), Dates, Maps, Sets, binary data, symbols, functions, NaN/Infinity,
 * throwing getters and hostile proxies included. Nothing in here may throw to its caller: a value
 * whose inspection throws is rolled back (the buffer position is reset) and replaced by a marker.
 *
 * One writer serves every event of an encoder (it is not re-entrant); `reset` points it at the
 * buffer and the start of the event being written.
 */
export class SafeJsonWriter {
  /** Set once the event passed `limits.budgetBytes`; everything after that is written as null. */
  overflow = false;
  limits: ValueLimits;
  buf: JsonBuffer;
  private eventStart = 0;
  private readonly keys: MemberKeys;
  private readonly ancestors: object[] = [];
  /**
   * The keys last written at each top-level position, with their member keys. Events from one
   * call site repeat their keys in the same order: comparing a key with the one seen last at its
   * position (the same interned string, usually) is cheaper than a Map lookup.
   */
  private readonly keyAt: string[] = new Array<string>(MAX_KEY_POSITIONS).fill('');
  private readonly memberAt: Array<MemberKey | undefined> = new Array<MemberKey | undefined>(MAX_KEY_POSITIONS).fill(undefined);

  constructor(buf: JsonBuffer, limits: ValueLimits, keys: MemberKeys) {
    this.buf = buf;
    this.limits = limits;
    this.keys = keys;
  }

  reset(buf: JsonBuffer, limits: ValueLimits): void {
    this.buf = buf;
    this.eventStart = buf.pos;
    this.overflow = false;
    this.limits = limits;
    // Empty already unless an earlier event threw mid-object; setting length is not free.
    if (this.ancestors.length !== 0) this.ancestors.length = 0;
  }

  /** A string, truncated to the limit and quoted. */
  writeString(value: string): void {
    this.buf.string(value.length > this.limits.maxStringLength ? truncate(value, this.limits.maxStringLength) : value);
  }

  /**
   * Writes `"key":value` preceded by a comma unless `first`. Returns false (and writes nothing)
   * for values JSON has no place for in an object: undefined, functions and symbols.
   */
  writeMember(key: string, value: unknown, depth: number, first: boolean, position = -1): boolean {
    const t = typeof value;
    if (t === 'undefined' || t === 'function' || t === 'symbol') return false;
    if (!first) this.buf.byte(0x2c);
    let sensitive: boolean;
    const member = position >= 0 && position < MAX_KEY_POSITIONS ? this.memberKeyAt(key, position) : this.keys.get(key);
    if (member !== undefined) {
      this.buf.raw(member.json);
      sensitive = member.sensitive;
    } else {
      this.buf.string(key.length > MAX_KEY_LENGTH ? truncate(key, MAX_KEY_LENGTH) : key);
      this.buf.byte(0x3a);
      sensitive = this.keys.redactor.isSensitive(key);
    }
    if (sensitive) this.buf.ascii(REDACTED_JSON);
    else this.writeValue(value, depth);
    return true;
  }

  private memberKeyAt(key: string, position: number): MemberKey | undefined {
    if (this.keyAt[position] === key) return this.memberAt[position];
    const member = this.keys.get(key);
    this.keyAt[position] = key;
    this.memberAt[position] = member;
    return member;
  }

  /**
   * Writes the own enumerable members of an object (attributes), skipping `skipKey`; returns how
   * many were written. for…in with an own-property check walks V8's enum cache without allocating
   * a key array per object. A throwing proxy trap propagates: the enclosing writeObject rolls back.
   */
  writeMembers(record: Readonly<Record<string, unknown>>, depth: number, skipKey: string | undefined, first: boolean): number {
    let written = 0;
    let seen = 0;
    let skipped = 0;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      if (seen++ >= this.limits.maxItems) {
        skipped++;
        continue;
      }
      if (key === skipKey) continue;
      if (this.writeMember(key, readProperty(record, key), depth, first && written === 0, depth === 1 ? seen - 1 : -1)) written++;
    }
    if (skipped > 0) {
      this.writeMember('[truncated]', `${skipped} more keys`, depth, first && written === 0);
      written++;
    }
    return written;
  }

  writeValue(value: unknown, depth: number): void {
    if (this.overflow) {
      this.buf.ascii('null');
      return;
    }
    switch (typeof value) {
      case 'string':
        this.writeString(value);
        break;
      case 'number':
        // NaN and the infinities are not JSON numbers: keep them readable as strings.
        if (Number.isFinite(value)) this.buf.number(value);
        else this.buf.string(String(value));
        break;
      case 'boolean':
        this.buf.ascii(value ? 'true' : 'false');
        break;
      case 'bigint':
        this.buf.string(value.toString());
        break;
      case 'object':
        if (value === null) this.buf.ascii('null');
        else this.writeObject(value, depth);
        break;
      default:
        // undefined, functions and symbols inside arrays: keep the position.
        this.buf.ascii('null');
    }
    if (this.buf.pos - this.eventStart > this.limits.budgetBytes) this.overflow = true;
  }

  private writeObject(value: object, depth: number): void {
    if (this.ancestors.includes(value)) {
      this.buf.ascii('"[Circular]"');
      return;
    }
    if (depth >= this.limits.maxDepth) {
      this.buf.ascii('"[Truncated: max depth]"');
      return;
    }
    const mark = this.buf.pos;
    const ancestorCount = this.ancestors.length;
    this.ancestors.push(value);
    try {
      this.writeObjectUnchecked(value, depth);
    } catch (error) {
      // A getter, proxy trap or toJSON threw half-way: drop what was written of this value.
      this.buf.pos = mark;
      this.buf.string(describeFailure(error));
    } finally {
      this.ancestors.length = ancestorCount;
    }
  }

  private writeObjectUnchecked(value: object, depth: number): void {
    if (Array.isArray(value)) return this.writeArrayLike(value, depth);
    if (value instanceof Error) return this.writeError(value, depth);
    if (value instanceof Date) {
      const time = value.getTime();
      return this.buf.string(Number.isNaN(time) ? 'Invalid Date' : value.toISOString());
    }
    if (ArrayBuffer.isView(value)) {
      if (value instanceof Uint8Array || value instanceof DataView) return this.writeBytes(value, depth);
      return this.writeArrayLike(value as unknown as ArrayLike<unknown>, depth);
    }
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      return this.writeBytes(new Uint8Array(value), depth);
    }
    if (value instanceof Map) return this.writeMap(value, depth);
    if (value instanceof Set) return this.writeArrayLike(Array.from(take(value.values(), this.limits.maxItems + 1)), depth, value.size);
    if (value instanceof String || value instanceof Number || value instanceof Boolean || value instanceof BigInt) {
      return this.writeValue(value.valueOf(), depth + 1); // +1: a valueOf returning boxes forever hits maxDepth
    }
    if (value instanceof RegExp) return this.writeString(String(value));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      // URL, Decimal, ObjectId and friends say how they want to be seen.
      return this.writeValue(toJSON.call(value), depth + 1);
    }
    this.buf.byte(0x7b);
    this.writeMembers(value as Record<string, unknown>, depth + 1, undefined, true);
    this.buf.byte(0x7d);
  }

  private writeArrayLike(value: ArrayLike<unknown>, depth: number, size = value.length): void {
    const limit = Math.min(value.length, this.limits.maxItems);
    this.buf.byte(0x5b);
    for (let i = 0; i < limit; i++) {
      if (i > 0) this.buf.byte(0x2c);
      this.writeValue(value[i], depth + 1);
    }
    if (size > limit) {
      if (limit > 0) this.buf.byte(0x2c);
      this.buf.string(`[truncated: ${size - limit} more items]`);
    }
    this.buf.byte(0x5d);
  }

  private writeMap(value: Map<unknown, unknown>, depth: number): void {
    this.buf.byte(0x7b);
    let written = 0;
    for (const [key, item] of take(value.entries(), this.limits.maxItems)) {
      if (this.writeMember(mapKey(key), item, depth + 1, written === 0)) written++;
    }
    if (value.size > this.limits.maxItems) {
      this.writeMember('[truncated]', `${value.size - this.limits.maxItems} more entries`, depth + 1, written === 0);
    }
    this.buf.byte(0x7d);
  }

  private writeError(error: Error, depth: number): void {
    this.buf.byte(0x7b);
    // A member may be left out (an undefined name, say): the first written one goes without a comma.
    let written = 0;
    const member = (key: string, value: unknown) => {
      if (this.writeMember(key, value, depth + 1, written === 0)) written++;
    };
    member('name', readProperty(error, 'name'));
    member('message', readProperty(error, 'message'));
    member('stack', readProperty(error, 'stack'));
    // Own enumerable extras such as code, errno, syscall, statusCode.
    const keys = Object.keys(error);
    for (let i = 0; i < keys.length && i < this.limits.maxItems; i++) {
      const key = keys[i] as string;
      if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
      member(key, readProperty(error, key));
    }
    const cause = readProperty(error, 'cause');
    if (cause !== undefined) member('cause', cause);
    if (error instanceof AggregateError) member('errors', readProperty(error, 'errors'));
    this.buf.byte(0x7d);
  }

  private writeBytes(view: ArrayBufferView, depth: number): void {
    const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    // Base64 grows 4/3: keep the encoded text within the string limit.
    const keep = Math.min(bytes.length, Math.floor((this.limits.maxStringLength * 3) / 4));
    this.buf.byte(0x7b);
    this.writeMember('type', Buffer.isBuffer(view) ? 'Buffer' : typeName(view), depth + 1, true);
    this.writeMember('bytes', bytes.length, depth + 1, false);
    this.writeMember('base64', bytes.subarray(0, keep).toString('base64'), depth + 1, false);
    if (keep < bytes.length) this.writeMember('truncated', true, depth + 1, false);
    this.buf.byte(0x7d);
  }
}

/** The name of a typed array's class; one that has none, or hides it, is just a TypedArray. */
function typeName(view: ArrayBufferView): string {
  try {
    const name: unknown = (view.constructor as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' && name !== '' ? name : 'TypedArray';
  } catch {
    return 'TypedArray';
  }
}

/** Cuts `value` to `max` characters without splitting a surrogate pair, marking what was cut. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = max;
  const code = value.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return value.slice(0, cut) + `…[truncated ${value.length - cut} chars]`;
}

function readProperty(target: object, key: string): unknown {
  try {
    return (target as Record<string, unknown>)[key];
  } catch (error) {
    return describeFailure(error);
  }
}

function mapKey(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === null || (typeof key !== 'object' && typeof key !== 'function')) return String(key);
  return '[object]';
}

function* take<T>(iterator: Iterator<T>, count: number): Generator<T> {
  for (let i = 0; i < count; i++) {
    const step = iterator.next();
    if (step.done) return;
    yield step.value;
  }
}

export function describeFailure(error: unknown): string {
  try {
    const message = error instanceof Error ? error.message : String(error);
    return `[Unserializable: ${truncate(message, 200)}]`;
  } catch {
    return '[Unserializable]';
  }
}
