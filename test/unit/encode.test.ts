import { SeverityNumber } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS } from '../../src/config/exporter-config.ts';
import { EventEncoder, TRUNCATED_KEY, type EncoderConfig } from '../../src/exporter/encode.ts';
import type { AstralogEvent } from '../../src/receiver/contract.ts';
import { makeRecord, sampleSpan } from '../support/records.ts';

function encoder(overrides: Partial<EncoderConfig> = {}): EventEncoder {
  return new EventEncoder({
    projectId: undefined,
    service: undefined,
    redactKeys: DEFAULT_REDACT_KEYS,
    maxEventBytes: 256 * 1024,
    maxStringLength: 32 * 1024,
    maxDepth: 10,
    ...overrides,
  });
}

/** What the encoder writes, with the metadata it always includes. */
type Event = AstralogEvent & { metadata: Record<string, unknown> };

function encode(fields: Parameters<typeof makeRecord>[0], overrides: Partial<EncoderConfig> = {}): Event {
  return JSON.parse(encoder(overrides).encodeEvent(makeRecord(fields))) as Event;
}

describe('timestamp', () => {
  it('is RFC 3339 UTC keeping nanoseconds', () => {
    expect(encode({ hrTime: [1_790_000_000, 5] }).timestamp).toBe('2026-09-21T14:13:20.000000005Z');
    expect(encode({ hrTime: [0, 999_999_999] }).timestamp).toBe('1970-01-01T00:00:00.999999999Z');
  });

  it('falls back to the observed time, then now, for an unusable time', () => {
    expect(encode({ hrTime: [Number.NaN, 0], hrTimeObserved: [1_790_000_000, 0] }).timestamp).toBe('2026-09-21T14:13:20.000000000Z');
    const before = Date.now();
    const t = Date.parse(encode({ hrTime: [1e15, 0], hrTimeObserved: [-1, 0] }).timestamp);
    expect(t).toBeGreaterThanOrEqual(before - 1000);
  });

  it('crosses seconds correctly with its per-second cache', () => {
    const e = encoder();
    const a = JSON.parse(e.encodeEvent(makeRecord({ hrTime: [1_790_000_000, 1] }))) as Event;
    const b = JSON.parse(e.encodeEvent(makeRecord({ hrTime: [1_790_000_001, 2] }))) as Event;
    expect([a.timestamp, b.timestamp]).toEqual(['2026-09-21T14:13:20.000000001Z', '2026-09-21T14:13:21.000000002Z']);
  });
});

describe('level', () => {
  it('uses severityText lower-cased, keeping custom levels', () => {
    expect(encode({ severityText: 'WARN', severityNumber: SeverityNumber.ERROR }).level).toBe('warn');
    expect(encode({ severityText: 'Critical' }).level).toBe('critical');
  });

  it('maps severityNumber ranges when there is no text', () => {
    const cases: Array<[number, string]> = [
      [1, 'trace'], [4, 'trace'], [5, 'debug'], [8, 'debug'], [9, 'info'], [12, 'info'],
      [13, 'warn'], [16, 'warn'], [17, 'error'], [20, 'error'], [21, 'fatal'], [24, 'fatal'],
    ];
    for (const [n, level] of cases) expect(encode({ severityNumber: n }).level, `severity ${n}`).toBe(level);
  });

  it('defaults to info for no or out-of-range severity', () => {
    expect(encode({}).level).toBe('info');
    expect(encode({ severityNumber: 99 as SeverityNumber }).level).toBe('info');
    expect(encode({ severityText: '' , severityNumber: 0 }).level).toBe('info');
  });
});

describe('message', () => {
  it('keeps a string body as is', () => {
    expect(encode({ body: 'payment failed: "timeout" \n next' }).message).toBe('payment failed: "timeout" \n next');
  });

  it('turns any other body into JSON text', () => {
    expect(encode({ body: { order: 7, items: [1, 2] } }).message).toBe('{"order":7,"items":[1,2]}');
    expect(encode({ body: 42 }).message).toBe('42');
    expect(encode({ body: false }).message).toBe('false');
  });

  it('uses the event name, else empty, without a body', () => {
    expect(encode({ eventName: 'user.login' }).message).toBe('user.login');
    expect(encode({}).message).toBe('');
  });
});

describe('service and project_id', () => {
  it('takes service.name from the resource', () => {
    expect(encode({}, { service: 'fallback' }).service).toBe('checkout');
  });

  it('uses the service option when the resource has none or the OTel default', () => {
    const unnamed = resourceFromAttributes({ 'service.name': 'unknown_service:node' });
    expect(encode({ resource: unnamed }, { service: 'billing' }).service).toBe('billing');
    expect(encode({ resource: unnamed }).service).toBe('unknown_service:node');
    expect(encode({ resource: resourceFromAttributes({}) }).service).toBe('unknown_service');
  });

  it('sends project_id only when configured', () => {
    expect(encode({}, { projectId: 'org-xyz' }).project_id).toBe('org-xyz');
    expect('project_id' in encode({})).toBe(false);
  });
});

describe('trace correlation', () => {
  it('takes trace_id from the active span, and span_id into metadata', () => {
    const event = encode({ spanContext: sampleSpan });
    expect(event.trace_id).toBe(sampleSpan.traceId);
    expect(event.metadata.span_id).toBe(sampleSpan.spanId);
  });

  it('promotes an explicit trace_id attribute over the span, and removes it from metadata', () => {
    const event = encode({ spanContext: sampleSpan, attributes: { trace_id: 'req-8f72-11a9', user: 'u1' } });
    expect(event.trace_id).toBe('req-8f72-11a9');
    expect(event.metadata).toEqual({ user: 'u1', span_id: sampleSpan.spanId });
  });

  it('ignores an invalid span context and a non-promotable trace_id', () => {
    const invalid = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 };
    const event = encode({ spanContext: invalid, attributes: { trace_id: { nested: true } } });
    expect('trace_id' in event).toBe(false);
    expect(event.metadata).toEqual({ trace_id: { nested: true } });
  });

  it('promotes numeric trace ids as strings', () => {
    expect(encode({ attributes: { trace_id: 12345 } }).trace_id).toBe('12345');
  });
});

describe('metadata', () => {
  it('carries attributes, event name and dropped-attribute count', () => {
    const event = encode({ attributes: { 'http.method': 'GET', latency_ms: 5040 }, eventName: 'req', droppedAttributesCount: 2, body: 'x' });
    expect(event.metadata).toEqual({ 'http.method': 'GET', latency_ms: 5040, 'event.name': 'req', 'otel.dropped_attributes_count': 2 });
  });

  it('writes every integer exactly, at each digit-count boundary and at the int32 limits', () => {
    const values = [0, 1, -1, 2147483647, -2147483647, -2147483648, 2147483648, -2147483649, 2 ** 53 - 1];
    for (let power = 10; power <= 1e9; power *= 10) values.push(power - 1, power, power + 1, -(power - 1), -power);
    const attributes = Object.fromEntries(values.map((v, i) => [`n${i}`, v]));
    const e = encoder();
    expect(JSON.parse(e.encodeEvent(makeRecord({ attributes }))).metadata).toEqual(attributes);
    expect(e.encodeEvent(makeRecord({ attributes: { n: -0 } }))).toContain('"n":0}'); // JSON has no -0
  });

  it('makes unsafe values safe', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const err = Object.assign(new Error('boom', { cause: new TypeError('inner') }), { code: 'E_BOOM' });
    const meta = encode({
      attributes: {
        err, cyclic, big: 2n ** 70n, when: new Date(Date.UTC(2026, 0, 2)), bad: new Date(Number.NaN),
        map: new Map<unknown, unknown>([['a', 1], [2, 'b']]), set: new Set(['x', 'y']),
        buf: Buffer.from('hello'), floats: new Float32Array([1.5, 2]),
        fn: () => 1, sym: Symbol('s'), nan: Number.NaN, inf: -Infinity, undef: undefined, arr: [1, undefined, () => 2],
        url: new URL('https://example.com/a?b=1'), re: /ab+c/gi, boxed: new String('s'),
      },
    }).metadata;
    expect(meta.err).toMatchObject({ name: 'Error', message: 'boom', code: 'E_BOOM', cause: { name: 'TypeError', message: 'inner' } });
    expect(String((meta.err as { stack: string }).stack)).toContain('Error: boom');
    expect(meta.cyclic).toEqual({ name: 'a', self: '[Circular]' });
    expect(meta.big).toBe('1180591620717411303424');
    expect(meta.when).toBe('2026-01-02T00:00:00.000Z');
    expect(meta.bad).toBe('Invalid Date');
    expect(meta.map).toEqual({ a: 1, '2': 'b' });
    expect(meta.set).toEqual(['x', 'y']);
    expect(meta.buf).toEqual({ type: 'Buffer', bytes: 5, base64: 'aGVsbG8=' });
    expect(meta.floats).toEqual([1.5, 2]);
    expect('fn' in meta || 'sym' in meta || 'undef' in meta).toBe(false);
    expect([meta.nan, meta.inf]).toEqual(['NaN', '-Infinity']);
    expect(meta.arr).toEqual([1, null, null]);
    expect(meta.url).toBe('https://example.com/a?b=1');
    expect(meta.re).toBe('/ab+c/gi');
    expect(meta.boxed).toBe('s');
  });

  it('keeps shared (non-cyclic) references', () => {
    const shared = { id: 1 };
    expect(encode({ attributes: { a: shared, b: [shared, shared] } }).metadata).toEqual({ a: { id: 1 }, b: [{ id: 1 }, { id: 1 }] });
  });

  it('survives a throwing getter, keeping the other keys', () => {
    const hostile = { ok: 1, get bad(): never { throw new Error('nope'); } };
    expect(encode({ attributes: { hostile } }).metadata.hostile).toEqual({ ok: 1, bad: '[Unserializable: nope]' });
  });

  it('rolls back a value whose inspection throws half-way', () => {
    const proxy = new Proxy({}, { ownKeys() { throw new Error('trap'); } });
    const { proxy: encoded } = encode({ attributes: { proxy, after: 1 } }).metadata as { proxy: unknown };
    expect(encoded).toBe('[Unserializable: trap]');
  });

  it('keeps __proto__ as data without polluting', () => {
    const attrs = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}') as Record<string, unknown>;
    const json = encoder().encodeEvent(makeRecord({ attributes: attrs }));
    const event = JSON.parse(json) as Event;
    expect(Object.keys(event.metadata)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bounds depth', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const json = encoder({ maxDepth: 3 }).encodeEvent(makeRecord({ attributes: { deep } }));
    expect(JSON.parse(json).metadata).toEqual({ deep: { d: { d: '[Truncated: max depth]' } } });
  });
});

describe('redaction', () => {
  it('redacts sensitive keys at any depth by default', () => {
    const meta = encode({
      attributes: {
        password: 'hunter2', db_password: 'x', Authorization: 'Bearer abc', 'X-Api-Key': 'k', githubToken: 't',
        client_secret: 's', nested: { headers: { cookie: 'c=1' } }, max_tokens: 100, user: 'ann',
        AWS_SECRET_ACCESS_KEY: 'a', secretKey: 'b', passphrase: 'c',
      },
    }).metadata;
    expect(meta).toEqual({
      password: '[REDACTED]', db_password: '[REDACTED]', Authorization: '[REDACTED]', 'X-Api-Key': '[REDACTED]',
      githubToken: '[REDACTED]', client_secret: '[REDACTED]', nested: { headers: { cookie: '[REDACTED]' } },
      max_tokens: 100, user: 'ann', AWS_SECRET_ACCESS_KEY: '[REDACTED]', secretKey: '[REDACTED]', passphrase: '[REDACTED]',
    });
  });

  it('takes a replacement list, and [] turns it off', () => {
    expect(encode({ attributes: { ssn: '1', password: 'p' } }, { redactKeys: ['ssn'] }).metadata).toEqual({ ssn: '[REDACTED]', password: 'p' });
    expect(encode({ attributes: { password: 'p' } }, { redactKeys: [] }).metadata).toEqual({ password: 'p' });
  });

  it('redacts and encodes keys the same once its key cache is full, and for keys too long to cache', () => {
    const e = encoder();
    // Fill the per-key cache with keys made from data, then check keys that did not make it in.
    for (let i = 0; i < 5000; i++) e.encodeEvent(makeRecord({ attributes: { [`user_${i}`]: i } }));
    const longKey = `${'x'.repeat(100)}_password`;
    const late = { late_token: 't', late_ok: 1, [longKey]: 'p', ['"quoted"\n']: 'q' };
    for (let round = 0; round < 2; round++) {
      expect(JSON.parse(e.encodeEvent(makeRecord({ attributes: late }))).metadata).toEqual({
        late_token: '[REDACTED]', late_ok: 1, [longKey]: '[REDACTED]', ['"quoted"\n']: 'q',
      });
    }
  });

  it('keeps keys and redaction right when the keys at a position change from event to event', () => {
    const e = encoder();
    const shapes: Array<Record<string, unknown>> = [
      { user: 'u', password: 'p' },
      { password: 'p', user: 'u' },
      { user: 'u', password: 'p', extra: 1 },
      { token: 't' },
      { user: 'u', nested: { password: 'p', user: 'v' } },
    ];
    for (let round = 0; round < 3; round++) {
      const written = shapes.map((attributes) => Object.entries(JSON.parse(e.encodeEvent(makeRecord({ attributes }))).metadata));
      expect(written).toEqual([
        [['user', 'u'], ['password', '[REDACTED]']],
        [['password', '[REDACTED]'], ['user', 'u']],
        [['user', 'u'], ['password', '[REDACTED]'], ['extra', 1]],
        [['token', '[REDACTED]']],
        [['user', 'u'], ['nested', { password: '[REDACTED]', user: 'v' }]],
      ]);
    }
  });
});

describe('hostile bodies', () => {
  it('survives a function body whose string conversion throws', () => {
    const body = Object.assign(() => 1, { toString(): string { throw new Error('boom'); } });
    expect(encode({ body }).message).toBe('[Unserializable: boom]');
  });
});

describe('size caps', () => {
  it('truncates long strings visibly', () => {
    const event = encode({ body: 'a'.repeat(100), attributes: { s: 'b'.repeat(50) } }, { maxStringLength: 20 });
    expect(event.message).toBe('a'.repeat(20) + '…[truncated 80 chars]');
    expect(event.metadata.s).toBe('b'.repeat(20) + '…[truncated 30 chars]');
  });

  it('never splits a surrogate pair', () => {
    const event = encode({ body: 'a' + '😀'.repeat(10) }, { maxStringLength: 4 });
    expect(event.message).toBe('a😀…[truncated 18 chars]');
  });

  it('shortens values of an oversized event, marking it, and keeps it under the cap', () => {
    const e = encoder({ maxEventBytes: 8192 });
    const json = e.encodeEvent(makeRecord({ body: 'keep me', attributes: { big: 'x'.repeat(100_000), small: 1 } }));
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(8192);
    const event = JSON.parse(json) as Event;
    expect(event.message).toBe('keep me');
    expect(event.metadata.small).toBe(1);
    expect(String(event.metadata.big)).toMatch(/^x+…\[truncated \d+ chars\]$/);
    expect(event.metadata[TRUNCATED_KEY]).toMatch(/values shortened/);
  });

  it('drops metadata as a last resort, keeping identity and the start of the message', () => {
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'v'.repeat(60)]));
    const json = encoder({ maxEventBytes: 4096 }).encodeEvent(
      makeRecord({ body: '\u0001'.repeat(50_000), spanContext: sampleSpan, attributes: many }),
    );
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(4096);
    const event = JSON.parse(json) as Event;
    expect(event.trace_id).toBe(sampleSpan.traceId);
    expect(event.message.startsWith('\u0001')).toBe(true);
    expect(event.metadata).toEqual({ [TRUNCATED_KEY]: expect.stringMatching(/metadata dropped/) });
  });
});

describe('records that are not records', () => {
  it('still yields a valid event for null or a throwing record', () => {
    const hostile = new Proxy({}, { get() { throw new Error('no'); } }) as never;
    for (const record of [null as never, hostile]) {
      const event = JSON.parse(encoder({ service: 'svc' }).encodeEvent(record)) as Event;
      expect(event).toMatchObject({ level: 'error', service: 'svc', message: expect.stringContaining('could not be encoded') });
    }
  });
});

describe('static metadata', () => {
  it('adds the configured fields to every event, the record’s own attributes winning', () => {
    const e = encoder({ metadata: { region: 'eu-1', 'process.pid': 42, canary: false } });
    const first = JSON.parse(e.encodeEvent(makeRecord({ attributes: { user: 'u1' } }))) as Event;
    const second = JSON.parse(e.encodeEvent(makeRecord({ attributes: { region: 'us-2' } }))) as Event;
    const empty = JSON.parse(e.encodeEvent(makeRecord({}))) as Event;
    expect(first.metadata).toEqual({ user: 'u1', region: 'eu-1', 'process.pid': 42, canary: false });
    expect(second.metadata).toEqual({ region: 'us-2', 'process.pid': 42, canary: false });
    expect(empty.metadata).toEqual({ region: 'eu-1', 'process.pid': 42, canary: false });
  });
});
