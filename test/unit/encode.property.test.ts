import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { EventEncoder, TRUNCATED_KEY } from '../../src/exporter/encode.ts';
import { DEFAULT_REDACT_KEYS, resolveExporterConfig } from '../../src/config/exporter-config.ts';
import { makeRecord, sampleSpan, testResource } from '../support/records.ts';
import { hostileAnything, oddlyShaped } from '../support/arbitraries.ts';

// Property tests of EventEncoder.encodeEvent: never throws, valid JSON of the documented shape,
// within maxEventBytes, visible truncation, no prototype pollution, hostile values contained,
// sensitive keys redacted at any depth.

const DEFAULT_CAP = 262_144;
const CAPS = [4096, 16_384, DEFAULT_CAP] as const;
const STRING_LENGTHS = [16, 100, 32_768] as const;

// One encoder per configuration, reused across runs as the exporter reuses one per batch: this
// also checks that no state leaks from one event into the next.
const encoders = new Map<string, EventEncoder>();
function encoderFor(maxEventBytes: number, maxStringLength = 32_768): EventEncoder {
  const id = `${maxEventBytes}/${maxStringLength}`;
  let encoder = encoders.get(id);
  if (encoder === undefined) {
    encoder = new EventEncoder({
      projectId: 'p1',
      service: undefined,
      redactKeys: DEFAULT_REDACT_KEYS,
      maxEventBytes,
      maxStringLength,
      maxDepth: 10,
    });
    encoders.set(id, encoder);
  }
  return encoder;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const TRUNCATION_MARKER = /^([\s\S]*)…\[truncated (\d+) chars\]$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

interface ParsedEvent {
  timestamp: string;
  level: string;
  message: string;
  service: string;
  metadata: Record<string, unknown>;
  trace_id?: string;
  project_id?: string;
}

const EVENT_KEYS = new Set(['timestamp', 'level', 'message', 'service', 'metadata', 'trace_id', 'project_id']);

/** Promises 2 and 3: valid JSON of the documented shape, within the byte cap. */
function checkEvent(out: unknown, maxEventBytes: number): ParsedEvent {
  expect(typeof out).toBe('string');
  const json = out as string;
  const bytes = Buffer.byteLength(json);
  if (bytes > maxEventBytes) throw new Error(`event is ${bytes} bytes, cap ${maxEventBytes}`);
  const parsed: unknown = JSON.parse(json);
  expect(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)).toBe(true);
  const event = parsed as Record<string, unknown>;
  for (const key of Object.keys(event)) expect(EVENT_KEYS.has(key), `unexpected field ${key}`).toBe(true);
  expect(typeof event.timestamp).toBe('string');
  expect(event.timestamp).toMatch(TIMESTAMP);
  expect(typeof event.level).toBe('string');
  expect(typeof event.message).toBe('string');
  expect(typeof event.service).toBe('string');
  const metadata = event.metadata;
  expect(metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)).toBe(true);
  if ('trace_id' in event) expect(typeof event.trace_id).toBe('string');
  expect(event.project_id).toBe('p1');
  return event as unknown as ParsedEvent;
}

/** `{ a: '\\u0001' x 300 }`: a readable account of inputs made of one repeated unit. */
function summarize(inputs: Record<string, string | undefined>): string {
  return Object.entries(inputs)
    .map(([k, v]) => {
      if (v === undefined) return `${k}: undefined`;
      const first = v.codePointAt(0) ?? 0;
      const unit = String.fromCodePoint(first);
      const same = v === unit.repeat(v.length / unit.length);
      return `${k}: ${same ? `'\\u{${first.toString(16)}}' x ${v.length / unit.length}` : JSON.stringify(v.slice(0, 20))}`;
    })
    .join(', ');
}

function encode(encoder: EventEncoder, record: ReadableLogRecord): string {
  // Any throw fails the property (promise 1).
  return encoder.encodeEvent(record);
}

/** An object whose entries are all own, enumerable data properties, `__proto__` included. */
function objectFrom(entries: ReadonlyArray<readonly [string, unknown]>, nullPrototype = false): Record<string, unknown> {
  const o = (nullPrototype ? Object.create(null) : {}) as Record<string, unknown>;
  for (const [key, value] of entries) {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return o;
}

const prototypeKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort();
const arrayPrototypeKeysBefore = Object.getOwnPropertyNames(Array.prototype).sort();
afterEach(() => {
  // Promise 5, checked after every test: nothing the encoder did (or JSON.parse of its output) touched the prototypes.
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeysBefore);
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayPrototypeKeysBefore);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Any UTF-16 unit sequence: lone surrogates (high and low), control characters, astral characters. */
const hostileChar: Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('"', '\\', '\u2028', '\u2029', '\u007f', '\ufeff', '😀', '…'),
);
const hostileString = fc.string({ unit: hostileChar, maxLength: 40 });

const specialKeys = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'toJSON',
  'trace_id',
  'span_id',
  'event.name',
  TRUNCATED_KEY,
  '[truncated]',
  '',
  'length',
  '0',
] as const;
const keyArb: Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...specialKeys) },
  { weight: 1, arbitrary: hostileString },
);

function plainFunction(): unknown {
  return function namedFn(a: number): number {
    return a + 1;
  };
}

const specialValues: Arbitrary<unknown> = fc.constantFrom<() => unknown>(
  () => Symbol('sym'),
  () => plainFunction(),
  () => () => 1,
  () => Number.NaN,
  () => -0,
  () => Number.POSITIVE_INFINITY,
  () => 2n ** 70n,
  () => new Date(Number.NaN),
  () => new Date(8.64e15),
  () => /a+b/gi,
  () => new Error('plain error'),
  () => Object.assign(new TypeError('with extras'), { code: 'E_X', statusCode: 500 }),
  () => new AggregateError([new Error('one'), 'two'], 'many'),
  () => new Error('outer', { cause: new Error('inner') }),
  () => Buffer.from('buffer bytes'),
  () => new DataView(new ArrayBuffer(8)),
  () => new ArrayBuffer(10),
  () => new BigInt64Array([1n, -2n]),
  () => new Float64Array([Number.NaN, 1.5]),
  () => new URL('https://example.com/a?b=c'),
  () => Object(Symbol('boxed')),
  () => Object(10n),
  () => new WeakMap(),
  () => Promise.resolve(1),
  () => [undefined, () => 1, Symbol('in array')],
  () => new Map<unknown, unknown>([[{}, 1], [Symbol('k'), 2], [null, 3], [1, 4], ['1', 5]]),
).map((make) => make());

const anythingArb = hostileAnything(keyArb);

const valueArb: Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: anythingArb },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: specialValues },
  { weight: 2, arbitrary: oddlyShaped() },
);

const attributesArb = fc
  .tuple(fc.array(fc.tuple(keyArb, valueArb), { maxLength: 8 }), fc.boolean())
  .map(([entries, nullPrototype]) => objectFrom(entries, nullPrototype));

const bodyArb: Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ unit: 'binary' }),
  hostileString,
  anythingArb,
  specialValues,
);

interface TimeCase {
  hrTime: HrTime;
  valid: boolean;
}
const timeArb: Arbitrary<TimeCase> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 253_402_300_799 }), fc.integer({ min: 0, max: 999_999_999 })).map((t) => ({ hrTime: t as HrTime, valid: true })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(fc.double(), fc.integer(), fc.constant(253_402_300_800)), fc.oneof(fc.double(), fc.integer(), fc.constant(1e9)))
      .map((t) => ({ hrTime: t as HrTime, valid: false })),
  },
);

const resourceArb: Arbitrary<Resource> = fc.oneof(
  fc.constant(testResource),
  fc.constant(resourceFromAttributes({})),
  fc.constant(resourceFromAttributes({ 'service.name': 'unknown_service:node' })),
  hostileString.map((name) => resourceFromAttributes({ 'service.name': name })),
);

interface RecordCase {
  record: ReadableLogRecord;
  time: TimeCase;
  severityText: string | undefined;
  severityNumber: number | undefined;
}

const recordArb: Arbitrary<RecordCase> = fc
  .record({
    time: timeArb,
    attributes: attributesArb,
    body: bodyArb,
    severityText: fc.option(fc.oneof(fc.string({ maxLength: 10 }), hostileString), { nil: undefined }),
    severityNumber: fc.option(fc.oneof(fc.integer({ min: -5, max: 30 }), fc.double()), { nil: undefined }),
    spanContext: fc.option(fc.constant(sampleSpan), { nil: undefined }),
    eventName: fc.option(hostileString, { nil: undefined }),
    droppedAttributesCount: fc.constantFrom(0, 0, 3),
    resource: resourceArb,
  })
  .map(({ time, severityText, severityNumber, ...fields }) => ({
    record: makeRecord({
      ...fields,
      hrTime: time.hrTime,
      hrTimeObserved: time.hrTime,
      ...(severityText !== undefined ? { severityText } : {}),
      ...(severityNumber !== undefined ? { severityNumber } : {}),
    }),
    time,
    severityText,
    severityNumber,
  }));

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

// ---------------------------------------------------------------------------------------------
// Promises 1 and 2 (and 3 for ordinary inputs)

describe('EventEncoder.encodeEvent, arbitrary records', () => {
  it('never throws and always yields a bounded, well-formed event', () => {
    fc.assert(
      fc.property(recordArb, fc.constantFrom(...CAPS), fc.constantFrom(...STRING_LENGTHS), (c, cap, maxStringLength) => {
        const out = encode(encoderFor(cap, maxStringLength), c.record);
        const event = checkEvent(out, cap);
        if (c.time.valid) {
          const [seconds, nanos] = c.time.hrTime;
          expect(Date.parse(event.timestamp.slice(0, 19) + 'Z')).toBe(seconds * 1000);
          expect(event.timestamp.slice(20, 29)).toBe(String(nanos).padStart(9, '0'));
        }
        if (c.severityText !== undefined && c.severityText !== '') {
          const lower = c.severityText.toLowerCase();
          if (lower.length <= 32) expect(event.level).toBe(lower);
          else expect(event.level).toMatch(/…\[truncated \d+ chars\]$/);
        } else {
          expect(LEVELS).toContain(event.level);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps attribute keys and values that need no shortening', () => {
    // Non-vacuity for the property above: an ordinary event round-trips its metadata exactly.
    const flat = fc.dictionary(
      fc.string({ unit: 'binary', maxLength: 20 }).filter((k) => k !== 'trace_id' && !/pass|token|secret|auth|cookie|key|credential|session/i.test(k)),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 50 }), fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 10 },
    );
    fc.assert(
      fc.property(flat, (attributes) => {
        const record = makeRecord({ body: 'hello', attributes: objectFrom(Object.entries(attributes)) });
        const event = checkEvent(encode(encoderFor(DEFAULT_CAP), record), DEFAULT_CAP);
        expect(event.message).toBe('hello');
        expect(event.service).toBe('checkout');
        expect(event.metadata).toEqual(objectFrom(Object.entries(attributes)));
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 3: inputs built to blow the cap

type BlowerKind =
  | 'ascii'
  | 'control'
  | 'loneSurrogate'
  | 'emoji'
  | 'quotes'
  | 'manyKeys'
  | 'deep'
  | 'longArray'
  | 'bigMap'
  | 'bigSet'
  | 'bytes'
  | 'wideAndDeep';
const blowerKinds: BlowerKind[] = ['ascii', 'control', 'loneSurrogate', 'emoji', 'quotes', 'manyKeys', 'deep', 'longArray', 'bigMap', 'bigSet', 'bytes', 'wideAndDeep'];

function blower(kind: BlowerKind, scale: number): unknown {
  // scale in [0, 1]: sizes from "over every limit" to "far over".
  const n = (min: number, max: number) => Math.floor(min + (max - min) * scale);
  switch (kind) {
    case 'ascii':
      return 'x'.repeat(n(40_000, 1_000_000));
    case 'control':
      return '\u0001'.repeat(n(40_000, 1_000_000));
    case 'loneSurrogate':
      return '\ud800'.repeat(n(40_000, 300_000));
    case 'emoji':
      return '😀'.repeat(n(20_000, 300_000));
    case 'quotes':
      return '"\\'.repeat(n(20_000, 300_000));
    case 'manyKeys':
      return objectFrom(Array.from({ length: n(1001, 5000) }, (_, i) => [`key_${i}_\u0001`, '\u0001'.repeat(100)] as const));
    case 'deep': {
      let v: unknown = 'bottom';
      for (let i = n(12, 500); i > 0; i--) v = i % 3 === 0 ? [v] : i % 3 === 1 ? { d: v } : new Map([['m', v]]);
      return v;
    }
    case 'longArray':
      return new Array<string>(n(1001, 100_000)).fill('\u0001'.repeat(50));
    case 'bigMap':
      return new Map(Array.from({ length: n(1001, 5000) }, (_, i) => [`k${i}`, '"'.repeat(200)] as const));
    case 'bigSet':
      return new Set(Array.from({ length: n(1001, 5000) }, (_, i) => `${i}${'\u0002'.repeat(100)}`));
    case 'bytes':
      return new Uint8Array(n(40_000, 2_000_000));
    case 'wideAndDeep': {
      // A DAG (shared, not circular) that is 40 wide at every level: 40^8 paths if nothing stopped it.
      let v: unknown = 'leaf\u0001\u0001\u0001';
      for (let i = 0; i < 8; i++) v = new Array(40).fill(v);
      return v;
    }
  }
}

type Placement = 'attribute' | 'nestedAttribute' | 'body' | 'bodyObject' | 'severityText' | 'eventName' | 'traceId' | 'errorCause';
const placements: Placement[] = ['attribute', 'nestedAttribute', 'body', 'bodyObject', 'severityText', 'eventName', 'traceId', 'errorCause'];

const blowUpArb = fc.record({
  items: fc.array(fc.record({ kind: fc.constantFrom(...blowerKinds), scale: fc.double({ min: 0, max: 1, noNaN: true }), place: fc.constantFrom(...placements) }), {
    minLength: 1,
    maxLength: 4,
  }),
  extra: attributesArb,
  cap: fc.constantFrom(...CAPS),
  maxStringLength: fc.constantFrom(...STRING_LENGTHS),
  hugeService: fc.boolean(),
});

const hugeServiceResource = resourceFromAttributes({ 'service.name': '\u0001'.repeat(100_000) });

describe('EventEncoder.encodeEvent, inputs built to exceed maxEventBytes', () => {
  it('stays within maxEventBytes, valid, and says what it shortened', () => {
    fc.assert(
      fc.property(blowUpArb, ({ items, extra, cap, maxStringLength, hugeService }) => {
        const attributes: Record<string, unknown> = objectFrom(Object.entries(extra).filter(([k]) => k !== 'trace_id' && k !== '__proto__'));
        const fields: { -readonly [K in keyof NonNullable<Parameters<typeof makeRecord>[0]>]: NonNullable<Parameters<typeof makeRecord>[0]>[K] } = { attributes, spanContext: sampleSpan, ...(hugeService ? { resource: hugeServiceResource } : {}) };
        items.forEach(({ kind, scale, place }, i) => {
          const value = blower(kind, scale);
          const asString = typeof value === 'string' ? value : '\u0001'.repeat(Math.floor(50_000 + 100_000 * scale));
          switch (place) {
            case 'attribute':
              attributes[`blow${i}`] = value;
              break;
            case 'nestedAttribute':
              attributes[`nest${i}`] = { a: [{ b: value }] };
              break;
            case 'body':
              fields.body = value as ReadableLogRecord['body'];
              break;
            case 'bodyObject':
              fields.body = { payload: value } as unknown as ReadableLogRecord['body'];
              break;
            case 'severityText':
              fields.severityText = asString;
              break;
            case 'eventName':
              fields.eventName = asString;
              break;
            case 'traceId':
              attributes.trace_id = asString;
              break;
            case 'errorCause':
              attributes[`err${i}`] = new Error('wrapped', { cause: value });
              break;
          }
        });
        const out = encode(encoderFor(cap, maxStringLength), makeRecord(fields));
        checkEvent(out, cap);
        // Every blower is over some limit: the event must show that it was shortened.
        expect(out).toMatch(/truncated/i);
      }),
      { numRuns: 500 },
    );
  });

  it('stays within the cap for a message of characters that escape to 6 bytes, at every length near the limits', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CAPS),
        fc.constantFrom(...STRING_LENGTHS),
        fc.integer({ min: 1, max: 70_000 }),
        fc.constantFrom('\u0001', '\ud800', '\udfff', '"', '😀', 'é'),
        (cap, maxStringLength, length, unit) => {
          const text = unit.repeat(Math.ceil(length / unit.length));
          const record = makeRecord({ body: text, attributes: { same: text, arr: [text, text], trace_id: text }, severityText: text, eventName: text });
          checkEvent(encode(encoderFor(cap, maxStringLength), record), cap);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('EventEncoder built from a validated exporter config', () => {
  // The exporter builds its encoder from resolveExporterConfig(options): projectId and service are
  // checked there (at most 256 characters, no control characters), so the cap must hold for any
  // value that validation accepts, together with record fields at their own limits
  // (severityText 32, trace_id 128, service.name 256 characters).
  const unit = fc.constantFrom('a', '"', '\\', '\u2028', '😀', '\ud800', '\udfff');
  // Lengths biased toward the limits: a field is most expensive at its cap.
  const count = (min: number, maxUnits: number) => fc.oneof(fc.constantFrom(maxUnits, 256, 255, 128, 32), fc.integer({ min, max: maxUnits }));
  const text = (maxUnits: number) => fc.tuple(unit, count(1, maxUnits)).map(([u, n]) => u.repeat(n));
  const fieldUnit = fc.constantFrom('a', '\u0001', '"', '\ud800');
  // Record fields: mostly the worst case (past their limit, every character escaped to 6 bytes).
  const field = (maxUnits: number) =>
    fc.oneof({ weight: 3, arbitrary: fc.constant('\u0001'.repeat(maxUnits)) }, { weight: 1, arbitrary: fc.tuple(fieldUnit, count(0, maxUnits)).map(([u, n]) => u.repeat(n)) });

  it('stays within maxEventBytes for every projectId and service that validation accepts', () => {
    fc.assert(
      fc.property(
        fc.option(text(300), { nil: undefined }),
        fc.option(text(300), { nil: undefined }),
        fc.constantFrom(4096, 4097, 5000, 16_384),
        field(300),
        field(300),
        field(300),
        fc.option(field(300), { nil: undefined }),
        (projectId, service, maxEventBytes, severityText, traceId, serviceName, body) => {
          let config: ReturnType<typeof resolveExporterConfig>;
          try {
            config = resolveExporterConfig({ apiKey: 'ak_' + 'k'.repeat(32), projectId, service, maxEventBytes });
          } catch {
            fc.pre(false);
            return;
          }
          const encoder = new EventEncoder(config);
          const record = makeRecord({
            body: body ?? 'x'.repeat(maxEventBytes),
            severityText: severityText === '' ? 'info' : severityText,
            attributes: { trace_id: traceId === '' ? 't' : traceId, filler: 'y'.repeat(maxEventBytes) },
            resource: resourceFromAttributes(serviceName === '' ? {} : { 'service.name': serviceName }),
          });
          const out = encoder.encodeEvent(record);
          const bytes = Buffer.byteLength(out);
          if (bytes > maxEventBytes) {
            const inputs = { projectId, service, severityText, traceId, serviceName, body: body ?? 'x'.repeat(maxEventBytes) };
            throw new Error(`event is ${bytes} bytes, cap ${maxEventBytes}; ${summarize(inputs)}`);
          }
          const event = JSON.parse(out) as ParsedEvent;
          if (projectId !== undefined) expect(event.project_id).toBe(projectId);
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 4: visible truncation that never splits a surrogate pair

/** Strings made only of well-formed UTF-16, rich in surrogate pairs, of lengths around the limit. */
const wellFormedArb: Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 150 }),
  fc.tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 3 }), fc.array(fc.constantFrom('😀', '𝄞', '👍🏽', '🏳️‍🌈', 'a', 'é'), { maxLength: 120 })).map(([pre, parts]) => pre + parts.join('')),
  fc.string({ unit: 'binary', maxLength: 150 }),
);

function checkTruncated(output: unknown, input: string, max: number): void {
  expect(typeof output).toBe('string');
  const text = output as string;
  if (input.length <= max) {
    expect(text).toBe(input);
    return;
  }
  const match = TRUNCATION_MARKER.exec(text);
  expect(match, `expected a truncation marker in ${JSON.stringify(text)}`).not.toBeNull();
  const kept = (match as RegExpExecArray)[1] as string;
  const dropped = Number((match as RegExpExecArray)[2]);
  const splitsPair = /[\ud800-\udbff]/.test(input.charAt(max - 1));
  expect(kept).toBe(input.slice(0, splitsPair ? max - 1 : max));
  expect(dropped).toBe(input.length - kept.length);
  expect(LONE_SURROGATE.test(kept)).toBe(false);
}

describe('EventEncoder truncation', () => {
  it('truncates long strings visibly, at the limit, without splitting a surrogate pair', () => {
    fc.assert(
      fc.property(wellFormedArb, fc.constantFrom(16, 17, 37, 100), (input, max) => {
        const record = makeRecord({
          body: input,
          attributes: { s: input, nested: { list: [input] }, m: new Map([['v', input]]) },
        });
        const event = checkEvent(encode(encoderFor(DEFAULT_CAP, max), record), DEFAULT_CAP);
        checkTruncated(event.message, input, max);
        checkTruncated(event.metadata.s, input, max);
        checkTruncated(((event.metadata.nested as { list: unknown[] }).list as unknown[])[0], input, max);
        checkTruncated((event.metadata.m as Record<string, unknown>).v, input, max);
        // Nothing in the whole event is a lone surrogate: the input had none.
        expect(LONE_SURROGATE.test(JSON.stringify(event))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('truncates long keys to 256 characters without splitting a surrogate pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 5 }), fc.integer({ min: 120, max: 300 }), (prefix, pairs) => {
        const key = prefix + '😀'.repeat(pairs);
        const event = checkEvent(encode(encoderFor(DEFAULT_CAP), makeRecord({ attributes: objectFrom([[key, 1]]) })), DEFAULT_CAP);
        const keys = Object.keys(event.metadata);
        expect(keys).toHaveLength(1);
        checkTruncated(keys[0], key, 256);
      }),
      { numRuns: 300 },
    );
  });

  it('a string of exactly the limit is kept whole, one more unit is cut', () => {
    // (A lone *high* surrogate at the cut is treated as the start of a pair and cut too: not checked here.)
    fc.assert(
      fc.property(fc.constantFrom(...STRING_LENGTHS), fc.constantFrom('a', '\u0001', '\udc00', '"'), (max, unit) => {
        const exact = unit.repeat(max);
        const over = exact + 'b';
        // A cap far above both strings, so the event is never shortened as a whole.
        const cap = 16 * 1024 * 1024;
        const event = checkEvent(encode(encoderFor(cap, max), makeRecord({ attributes: { exact, over } })), cap);
        expect(event.metadata.exact).toBe(exact);
        expect(event.metadata.over).toBe(`${exact}…[truncated 1 chars]`);
      }),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 5: `__proto__` and friends

describe('EventEncoder and prototype keys', () => {
  it('writes __proto__, constructor and prototype as own keys, and never pollutes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('__proto__', 'constructor', 'prototype'),
        fc.oneof(fc.string(), fc.integer(), fc.boolean()),
        fc.constantFrom('top', 'nested', 'map', 'nullProto', 'parsed', 'body'),
        (key, payload, where) => {
          const hostile = objectFrom([[key, { polluted: payload, toString: 'nope' }]]);
          let attributes: Record<string, unknown>;
          let body: unknown = 'msg';
          switch (where) {
            case 'top':
              attributes = hostile;
              break;
            case 'nested':
              attributes = { outer: [hostile] };
              break;
            case 'map':
              attributes = { outer: new Map([[key, { polluted: payload, toString: 'nope' }]]) };
              break;
            case 'nullProto':
              attributes = { outer: objectFrom([[key, { polluted: payload, toString: 'nope' }]], true) };
              break;
            case 'parsed':
              attributes = JSON.parse(JSON.stringify({ outer: 1 }).replace('"outer"', () => JSON.stringify(key)).replace('1', () => JSON.stringify({ polluted: payload, toString: 'nope' })) /* replacer functions: data such as "$&" is not a pattern */) as Record<string, unknown>;
              break;
            default:
              attributes = {};
              body = hostile;
          }
          const event = checkEvent(encode(encoderFor(DEFAULT_CAP), makeRecord({ body, attributes })), DEFAULT_CAP);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeysBefore);
          const holder: unknown =
            where === 'top' || where === 'parsed'
              ? event.metadata
              : where === 'nested'
                ? (event.metadata.outer as unknown[])[0]
                : where === 'body'
                  ? JSON.parse(event.message)
                  : event.metadata.outer;
          const own = holder as Record<string, unknown>;
          expect(Object.hasOwn(own, key), `own key ${key} in ${JSON.stringify(event)}`).toBe(true);
          expect(Object.getPrototypeOf(own)).toBe(Object.prototype);
          expect(Object.getOwnPropertyDescriptor(own, key)?.value).toEqual({ polluted: payload, toString: 'nope' });
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 6: hostile objects

function throwing(what: string): () => never {
  return () => {
    throw new Error(what);
  };
}

/** A proxy handler whose every trap (whatever its name) throws. */
const allTrapsThrow = new Proxy({} as ProxyHandler<object>, {
  get: (_target, trap) => throwing(`trap ${String(trap)}`),
});

interface Hostile {
  name: string;
  make: () => unknown;
  /** What the value must become, when that is exact. */
  expected?: unknown;
  /** Must the value's rendering contain an [Unserializable…] or [Circular] marker? */
  marker: boolean;
}

const hostiles: Hostile[] = [
  { name: 'proxy whose every trap throws', make: () => new Proxy({}, allTrapsThrow), marker: true },
  { name: 'array proxy whose every trap throws', make: () => new Proxy([], allTrapsThrow), marker: true },
  {
    name: 'revoked proxy',
    make: () => {
      const r = Proxy.revocable({}, {});
      r.revoke();
      return r.proxy;
    },
    marker: true,
  },
  {
    name: 'throwing getter among good keys',
    make: () =>
      Object.defineProperty({ a: 1, c: 'kept' }, 'bad', {
        get: throwing('getter boom'),
        enumerable: true,
      }),
    expected: { a: 1, c: 'kept', bad: '[Unserializable: getter boom]' },
    marker: true,
  },
  { name: 'throwing toJSON', make: () => ({ toJSON: throwing('toJSON boom'), x: 1 }), expected: '[Unserializable: toJSON boom]', marker: true },
  { name: 'throwing toJSON getter', make: () => Object.defineProperty({ x: 1 }, 'toJSON', { get: throwing('toJSON getter boom') }), expected: '[Unserializable: toJSON getter boom]', marker: true },
  {
    name: 'Error with throwing name and message getters',
    make: () => {
      const e = new Error('hidden');
      Object.defineProperty(e, 'name', { get: throwing('name boom') });
      Object.defineProperty(e, 'message', { get: throwing('message boom') });
      return e;
    },
    marker: true,
  },
  {
    name: 'Error with throwing stack getter',
    make: () => Object.defineProperty(new Error('e'), 'stack', { get: throwing('stack boom') }),
    marker: true,
  },
  {
    name: 'object with throwing Symbol.toPrimitive, toString and valueOf',
    make: () => ({ [Symbol.toPrimitive]: throwing('toPrimitive boom'), toString: throwing('toString boom'), valueOf: throwing('valueOf boom'), x: 1 }),
    expected: { x: 1 },
    marker: false,
  },
  {
    name: 'Map keyed by an object with throwing Symbol.toPrimitive',
    make: () => new Map([[{ [Symbol.toPrimitive]: throwing('toPrimitive boom') }, 'v']]),
    marker: false,
  },
  {
    name: 'self cycle',
    make: () => {
      const a: Record<string, unknown> = { n: 1 };
      a.self = a;
      return a;
    },
    expected: { n: 1, self: '[Circular]' },
    marker: true,
  },
  {
    name: 'mutual cycle through arrays',
    make: () => {
      const a: unknown[] = [];
      const b: unknown[] = [a];
      a.push(b);
      return a;
    },
    expected: [['[Circular]']],
    marker: true,
  },
  {
    name: 'mutual cycle through a Map and an object',
    make: () => {
      const m = new Map<string, unknown>();
      const o = { m };
      m.set('o', o);
      return o;
    },
    expected: { m: { o: '[Circular]' } },
    marker: true,
  },
  {
    name: 'Set containing itself',
    make: () => {
      const s = new Set<unknown>();
      s.add(s);
      return s;
    },
    expected: ['[Circular]'],
    marker: true,
  },
  {
    name: 'Error whose cause is itself',
    make: () => {
      const e = new Error('loop');
      e.cause = e;
      return e;
    },
    marker: true,
  },
  {
    name: 'Error with itself among its extras',
    make: () => {
      const e = new Error('loop') as Error & { self?: unknown };
      e.self = e;
      return e;
    },
    marker: true,
  },
  {
    name: 'toJSON returning this',
    make: () => ({
      toJSON() {
        return this;
      },
    }),
    expected: '[Circular]',
    marker: true,
  },
  {
    name: 'ownKeys trap throws',
    make: () => new Proxy({ a: 1 }, { ownKeys: throwing('ownKeys boom') }),
    marker: true,
  },
  {
    name: 'array with a throwing index getter',
    make: () => Object.defineProperty([1, 2, 3], 1, { get: throwing('index boom') }),
    marker: true,
  },
  {
    name: 'Map with throwing entries()',
    make: () => Object.assign(new Map([['a', 1]]), { entries: throwing('entries boom') }),
    marker: true,
  },
  {
    name: 'thrown value with a throwing toPrimitive',
    make: () =>
      Object.defineProperty({}, 'bad', {
        enumerable: true,
        get() {
          throw { [Symbol.toPrimitive]: throwing('toPrimitive of thrown value') };
        },
      }),
    expected: { bad: '[Unserializable]' },
    marker: true,
  },
  {
    // Unwrapping a box counts as a level of depth, so this ends at maxDepth, visibly.
    name: 'boxed String whose valueOf returns a fresh boxed String forever',
    make: () => {
      class Endless extends String {
        override valueOf(): string {
          return new Endless('again') as unknown as string;
        }
      }
      return new Endless('start');
    },
    marker: true,
  },
];

const MARKER = /\[Unserializable|\[Circular\]|\[Truncated: max depth\]/;

type Wrap = 'none' | 'array' | 'object' | 'map' | 'set' | 'errorCause';
function wrapValue(value: unknown, wraps: readonly Wrap[]): { value: unknown; unwrap: (rendered: unknown) => unknown } {
  let v = value;
  const steps: Array<(r: unknown) => unknown> = [];
  for (const w of wraps) {
    switch (w) {
      case 'array':
        v = [v];
        steps.unshift((r) => (r as unknown[])[0]);
        break;
      case 'object':
        v = { w: v };
        steps.unshift((r) => (r as Record<string, unknown>).w);
        break;
      case 'map':
        v = new Map([['w', v]]);
        steps.unshift((r) => (r as Record<string, unknown>).w);
        break;
      case 'set':
        v = new Set([v]);
        steps.unshift((r) => (r as unknown[])[0]);
        break;
      case 'errorCause':
        v = new Error('wrap', { cause: v });
        steps.unshift((r) => (r as Record<string, unknown>).cause);
        break;
      default:
        break;
    }
  }
  return { value: v, unwrap: (rendered) => steps.reduce((r, step) => step(r), rendered) };
}

describe('EventEncoder and hostile values', () => {
  it('never throws, keeps the other keys, and marks the hostile value', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...hostiles),
        fc.array(fc.constantFrom<Wrap>('none', 'array', 'object', 'map', 'set', 'errorCause'), { maxLength: 3 }),
        fc.constantFrom(...CAPS),
        attributesArb,
        (hostile, wraps, cap, extra) => {
          const { value, unwrap } = wrapValue(hostile.make(), wraps);
          const attributes = objectFrom([...Object.entries(extra).filter(([k]) => k !== 'before' && k !== 'after'), ['before', 1], ['hostile', value], ['after', 'kept']]);
          const event = checkEvent(encode(encoderFor(cap), makeRecord({ body: 'msg', attributes })), cap);
          expect(event.metadata.before).toBe(1);
          expect(event.metadata.after).toBe('kept');
          const rendered = unwrap(event.metadata.hostile);
          // An event over the cap is written again with compact limits (depth 5): a cycle nested under
          // several wraps may then end in the depth marker before it is seen as circular.
          const compacted = event.metadata[TRUNCATED_KEY] !== undefined;
          if (hostile.expected !== undefined && !compacted) expect(rendered).toEqual(hostile.expected);
          if (hostile.marker) expect(JSON.stringify(rendered)).toMatch(MARKER);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws for a hostile object as the body, and marks it in the message', () => {
    fc.assert(
      fc.property(fc.constantFrom(...hostiles), fc.constantFrom(...CAPS), (hostile, cap) => {
        const event = checkEvent(encode(encoderFor(cap), makeRecord({ body: hostile.make() as ReadableLogRecord['body'], attributes: { after: 'kept' } })), cap);
        expect(event.metadata.after).toBe('kept');
        if (hostile.marker) expect(event.message).toMatch(MARKER);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws for hostile attribute containers', () => {
    const containers: Array<() => unknown> = [
      () => new Proxy({}, allTrapsThrow),
      () => {
        const r = Proxy.revocable({}, {});
        r.revoke();
        return r.proxy;
      },
      () => Object.defineProperty({ ok: 1 }, 'trace_id', { get: throwing('trace_id getter'), enumerable: true }),
      () => new Proxy({ ok: 1 }, { has: throwing('has boom') }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...containers), fc.option(fc.constant(sampleSpan), { nil: undefined }), fc.constantFrom(...CAPS), (make, spanContext, cap) => {
        const record = makeRecord({ body: 'msg', ...(spanContext ? { spanContext } : {}) });
        (record as { attributes: unknown }).attributes = make();
        const event = checkEvent(encode(encoderFor(cap), record), cap);
        expect(event.message).toBe('msg');
      }),
      { numRuns: 50 },
    );
  });

  it('does not mistake shared (non-circular) references for cycles', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.string(), (copies, text) => {
        const shared = { text, list: [1, 2] };
        const attributes = { a: shared, b: Array.from({ length: copies }, () => shared), m: new Map([['x', shared]]) };
        const event = checkEvent(encode(encoderFor(DEFAULT_CAP), makeRecord({ attributes })), DEFAULT_CAP);
        expect(event.metadata.a).toEqual(shared);
        expect(event.metadata.b).toEqual(Array.from({ length: copies }, () => shared));
        expect(event.metadata.m).toEqual({ x: shared });
      }),
      { numRuns: 100 },
    );
  });

  // A function body is converted with String(body); a function whose conversion throws is as hostile
  // as any object, and encodeEvent promises never to throw.
  const hostileFunctions: Array<[string, () => unknown]> = [
    ['function with a throwing toString', () => Object.assign(() => 1, { toString: throwing('toString boom') })],
    ['function with a throwing Symbol.toPrimitive', () => Object.assign(() => 1, { [Symbol.toPrimitive]: throwing('toPrimitive boom') })],
    ['function proxy whose every trap throws', () => new Proxy(() => 1, allTrapsThrow)],
    [
      'revoked function proxy',
      () => {
        const r = Proxy.revocable(() => 1, {});
        r.revoke();
        return r.proxy;
      },
    ],
  ];
  it.each(hostileFunctions)('never throws for a body that is a %s', (_name, make) => {
    for (const cap of CAPS) {
      const record = makeRecord({ body: make() as ReadableLogRecord['body'], attributes: { after: 'kept' } });
      let out: string | undefined;
      expect(() => {
        out = encoderFor(cap).encodeEvent(record);
      }).not.toThrow();
      checkEvent(out, cap);
    }
  });

  it('never throws for hostile functions as attribute values (dropped like any function)', () => {
    for (const [, make] of hostileFunctions) {
      const event = checkEvent(encode(encoderFor(DEFAULT_CAP), makeRecord({ attributes: { f: make(), after: 'kept', inArray: [make()] } })), DEFAULT_CAP);
      expect(event.metadata).toEqual({ after: 'kept', inArray: [null] });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Promise 7: redaction

const sensitiveKeys = [
  'password',
  'db_password',
  'Authorization',
  'X-Api-Key',
  'githubToken',
  'client_secret',
  'PASSWORD',
  'access_token',
  'Cookie',
  'set-cookie',
  'session_id',
  'sessionId',
  'private_key',
  'credentials',
  'passwd',
  'apikey',
  'API_KEY',
  'proxy-authorization',
] as const;
const keptKeys = ['max_tokens', 'tokens', 'token_count', 'secretary', 'password_hint', 'author', 'keyboard', 'monkey', 'session', 'cookies_enabled', 'user'] as const;

/** A sensitive key in disguise: any prefix, the base word in any case with punctuation sprinkled in. */
const disguisedSensitiveKey: Arbitrary<string> = fc
  .tuple(
    fc.string({ unit: 'grapheme-ascii', maxLength: 8 }),
    fc.constantFrom(...DEFAULT_REDACT_KEYS),
    fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
    fc.array(fc.constantFrom('', '', '', '_', '-', '.', ' ', '$'), { minLength: 20, maxLength: 20 }),
  )
  .map(([prefix, base, upper, seps]) => {
    let key = prefix;
    for (let i = 0; i < base.length; i++) {
      const ch = base.charAt(i);
      key += (upper[i] ? ch.toUpperCase() : ch) + (seps[i] ?? '');
    }
    return key;
  });
const sensitiveKeyArb = fc.oneof(fc.constantFrom(...sensitiveKeys), disguisedSensitiveKey);

type Holder = 'object' | 'nullProto' | 'map' | 'errorExtra' | 'toJSON' | 'array' | 'body';
const holderArb = fc.array(fc.constantFrom<Holder>('object', 'nullProto', 'map', 'errorExtra', 'toJSON', 'array'), { maxLength: 4 });

/** Builds attributes (and body) that hold `{ [key]: secret }` at the depth given by `holders`. */
function placeSecret(key: string, secret: unknown, holders: readonly Holder[], inBody: boolean, filler: unknown): { attributes: Record<string, unknown>; body: unknown } {
  let v: unknown = objectFrom([['ok', 'visible'], [key, secret]]);
  for (const h of holders) {
    switch (h) {
      case 'object':
        v = { inner: v };
        break;
      case 'nullProto':
        v = objectFrom([['inner', v]], true);
        break;
      case 'map':
        v = new Map<unknown, unknown>([['inner', v], [key, secret]]);
        break;
      case 'errorExtra':
        // A fixed stack: the two encodings compared must not differ by call site.
        v = Object.assign(new Error('with extras'), { stack: 'Error: with extras', inner: v, [key]: secret });
        break;
      case 'toJSON': {
        const inner = v;
        v = { toJSON: () => ({ inner }) };
        break;
      }
      case 'array':
        v = [v, filler];
        break;
      default:
        break;
    }
  }
  const attributes = objectFrom([['filler', filler], ['holder', v], [key, secret]]);
  return inBody ? { attributes: { filler }, body: v } : { attributes, body: 'msg' };
}

function escapeForJson(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

describe('EventEncoder redaction', () => {
  it('never shows any part of a secret under a sensitive key, at any depth', () => {
    fc.assert(
      fc.property(
        sensitiveKeyArb,
        fc.string({ unit: 'binary', minLength: 8, maxLength: 60 }),
        holderArb,
        fc.boolean(),
        fc.constantFrom(...CAPS),
        fc.constantFrom<unknown>('small filler', 'x'.repeat(20_000), Array.from({ length: 300 }, (_, i) => `item ${i} ${'\u0001'.repeat(20)}`)),
        (key, secret, holders, inBody, cap, filler) => {
          const encoder = encoderFor(cap);
          const placed = placeSecret(key, secret, holders, inBody, filler);
          const out = encode(encoder, makeRecord({ attributes: placed.attributes, body: placed.body as ReadableLogRecord['body'] }));
          checkEvent(out, cap);
          const other = placeSecret(key, 'PLACEHOLDER', holders, inBody, filler);
          const baseline = encode(encoder, makeRecord({ attributes: other.attributes, body: other.body as ReadableLogRecord['body'] }));
          // The event cannot depend on the secret at all...
          expect(out).toBe(baseline);
          // ...so no 8-character window of it shows (raw, JSON-escaped, or escaped twice inside a message).
          for (const form of [secret, escapeForJson(secret), escapeForJson(escapeForJson(secret))]) {
            for (let i = 0; i + 8 <= form.length; i++) {
              const window = form.slice(i, i + 8);
              if (!baseline.includes(window)) expect(out.includes(window)).toBe(false);
            }
          }
          if (!inBody && holders.length === 0) {
            const event = JSON.parse(out) as ParsedEvent;
            if (key in event.metadata) expect(event.metadata[key]).toBe('[REDACTED]');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('redacts every kind of value under a sensitive key', () => {
    fc.assert(
      fc.property(sensitiveKeyArb, valueArb, holderArb, (key, secret, holders) => {
        const encoder = encoderFor(DEFAULT_CAP);
        const out = encode(encoder, makeRecord({ attributes: placeSecret(key, secret, holders, false, 'f').attributes }));
        const event = checkEvent(out, DEFAULT_CAP);
        const t = typeof secret;
        const dropped = t === 'undefined' || t === 'function' || t === 'symbol';
        // Members JSON has no place for (undefined, functions, symbols) are dropped; anything else is redacted.
        const placeholder = dropped ? undefined : 'PLACEHOLDER';
        expect(out).toBe(encode(encoder, makeRecord({ attributes: placeSecret(key, placeholder, holders, false, 'f').attributes })));
        if (dropped) expect(Object.hasOwn(event.metadata, key)).toBe(false);
        else expect(event.metadata[key]).toBe('[REDACTED]');
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps values under keys that only look sensitive', () => {
    fc.assert(
      fc.property(fc.constantFrom(...keptKeys), fc.string({ maxLength: 30 }), (key, value) => {
        const event = checkEvent(encode(encoderFor(DEFAULT_CAP), makeRecord({ attributes: { [key]: value, nested: { [key]: value } } })), DEFAULT_CAP);
        expect(event.metadata[key]).toBe(value);
        expect((event.metadata.nested as Record<string, unknown>)[key]).toBe(value);
      }),
      { numRuns: 100 },
    );
  });
});
