import { EventEmitter } from 'node:events';
import { context, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AstralogConfigError, createAstralog, type Astralog, type AstralogOptions } from '../../src/index.ts';
import { captureStderr, TEST_KEY } from '../support/exporting.ts';
import { expectAccounted } from '../support/processing.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

let receiver: Receiver;
let stderr: ReturnType<typeof captureStderr>;
let client: Astralog;

function clientWith(options: Partial<AstralogOptions> = {}): Astralog {
  client = createAstralog({ apiKey: TEST_KEY, endpoint: receiver.url, service: 'checkout', ...options });
  return client;
}

beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
  stderr = captureStderr();
});
afterEach(async () => {
  await client?.close();
  await receiver.close();
  stderr.restore();
});

type Event = { level: string; message: string; service: string; trace_id?: string; metadata: Record<string, unknown> };
const events = () => receiver.accepted as Event[];
const nextTick = () => new Promise((r) => setImmediate(r));

describe('createAstralog', () => {
  it('sends each level, custom ones included, with metadata', async () => {
    const log = clientWith();
    log.debug('d', { a: 1 });
    log.info('i');
    log.warn('w', { user_id: 'u1' });
    log.error('e', { latency_ms: 5040 });
    log.event('critical', 'c', { region: 'eu' });
    await log.flush();
    expect(events().map((e) => [e.level, e.message, e.service])).toEqual([
      ['debug', 'd', 'checkout'], ['info', 'i', 'checkout'], ['warn', 'w', 'checkout'], ['error', 'e', 'checkout'], ['critical', 'c', 'checkout'],
    ]);
    expect(events()[2]!.metadata).toEqual({ user_id: 'u1' });
    expectAccounted(log.stats());
  });

  it("reports the processor's self-observability metrics to a meterProvider, and names a wrong one", async () => {
    class Reader extends MetricReader {
      protected async onForceFlush(): Promise<void> {}
      protected async onShutdown(): Promise<void> {}
    }
    const reader = new Reader();
    const log = clientWith({ meterProvider: new MeterProvider({ readers: [reader] }), maxQueueSize: 3, maxBatchSize: 3 });
    for (let i = 0; i < 5; i++) log.info(`line ${i}`); // two do not fit
    await log.flush();
    const { resourceMetrics } = await reader.collect();
    const processed = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'otel.sdk.processor.log.processed');
    const points = (processed?.dataPoints ?? []) as DataPoint<number>[];
    expect(points.map((p) => [p.attributes['error.type'], p.value]).sort()).toEqual([[undefined, 3], ['queue_full', 2]]);
    expect(() => createAstralog({ apiKey: TEST_KEY, endpoint: receiver.url, meterProvider: {} as never })).toThrow(/meterProvider: expected a MeterProvider/);
  });

  it('filters below the minimum level at the call', async () => {
    const log = clientWith({ level: 'warn' });
    log.debug('no');
    log.info('no');
    log.event('notice', 'no');
    log.warn('yes');
    log.event('critical', 'yes');
    await log.flush();
    expect(events().map((e) => e.message)).toEqual(['yes', 'yes']);
    expect(log.stats()).toMatchObject({ emitted: 2, filtered: 3 });
  });

  it('keeps what was logged even if the caller reuses its metadata object', async () => {
    const log = clientWith();
    const meta: Record<string, unknown> = {};
    for (let i = 0; i < 3; i++) {
      meta.i = i;
      log.info('loop', meta);
    }
    await log.flush();
    expect(events().map((e) => e.metadata.i)).toEqual([0, 1, 2]);
  });

  it('keeps values the OTel Logger would drop: Errors, BigInts, Dates, nested objects', async () => {
    const log = clientWith();
    log.error('failed', { err: new Error('boom'), big: 10n ** 20n, at: new Date(0), nested: { deep: [1, 2] } });
    log.error('bare error', new Error('as metadata') as never);
    await log.flush();
    expect(events()[0]!.metadata).toMatchObject({ err: { name: 'Error', message: 'boom' }, big: '100000000000000000000', at: '1970-01-01T00:00:00.000Z', nested: { deep: [1, 2] } });
    expect(events()[1]!.metadata).toMatchObject({ error: { message: 'as metadata' } });
  });

  it('never throws into the app, whatever it is given', async () => {
    const log = clientWith();
    const hostile = { get boom(): never { throw new Error('getter'); } };
    expect(() => log.info('hostile', hostile)).not.toThrow();
    expect(() => log.info(Symbol('s') as never, 5 as never)).not.toThrow();
    expect(() => log.event(42 as never, { not: 'a string' } as never)).not.toThrow();
    expect(() => log.info('x', new Proxy({}, { ownKeys() { throw new Error('trap'); } }))).not.toThrow();
    await log.flush();
    expect(events().map((e) => [e.level, e.message])).toEqual([
      ['info', 'hostile'], ['info', 'Symbol(s)'], ['info', '{"not":"a string"}'], ['info', 'x'],
    ]);
    expect(events()[0]!.metadata).toEqual({ 'astralog.metadata_unreadable': true });
    expect(events()[1]!.metadata).toEqual({ metadata: 5 });
  });

  it('ignores calls after close; close is idempotent; flush never rejects', async () => {
    const log = clientWith();
    log.info('before');
    const closing = log.close();
    expect(log.close()).toBe(closing);
    await closing;
    log.info('after');
    await expect(log.flush()).resolves.toBeUndefined();
    expect(events().map((e) => e.message)).toEqual(['before']);
    expect(log.stats()).toMatchObject({ emitted: 1, exported: 1 });
  });

  it('refuses bad options by name', () => {
    expect(() => createAstralog({ apiKey: TEST_KEY, level: 'loud' as never })).toThrow(/level: expected one of/);
    expect(() => createAstralog({ apiKey: TEST_KEY, maxBatchSize: 0 })).toThrow(AstralogConfigError);
    expect(() => createAstralog({ apiKey: TEST_KEY, maxQueueSiz: 5 } as never)).toThrow(/did you mean 'maxQueueSize'/);
  });
});

describe('withContext and trace correlation', () => {
  it('binds metadata across await, setTimeout, setImmediate and event emitters, and not outside', async () => {
    const log = clientWith();
    const emitter = new EventEmitter();
    const result = await log.withContext({ request_id: 'r-1', trace_id: 'req-5f8a9b2c' }, async () => {
      log.info('sync');
      await new Promise((r) => setTimeout(r, 5));
      log.info('after await');
      await new Promise<void>((r) => setTimeout(() => { log.info('in setTimeout'); r(); }, 1));
      await new Promise<void>((r) => setImmediate(() => { log.info('in setImmediate'); r(); }));
      emitter.on('job', () => log.info('in listener'));
      await new Promise<void>((r) => setTimeout(() => { emitter.emit('job'); r(); }, 1));
      return 'value';
    });
    log.info('outside');
    await log.flush();
    expect(result).toBe('value');
    const byMessage = Object.fromEntries(events().map((e) => [e.message, e]));
    for (const m of ['sync', 'after await', 'in setTimeout', 'in setImmediate', 'in listener']) {
      expect(byMessage[m], m).toMatchObject({ trace_id: 'req-5f8a9b2c', metadata: { request_id: 'r-1' } });
    }
    expect(byMessage.outside!.trace_id).toBeUndefined();
    expect(byMessage.outside!.metadata).toEqual({});
  });

  it('keeps concurrent contexts apart and nests them', async () => {
    const log = clientWith();
    await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        log.withContext({ trace_id: `t-${id}` }, async () => {
          await new Promise((r) => setTimeout(r, Math.random() * 10));
          log.withContext({ step: 2 }, () => log.info(`from ${id}`));
        }),
      ),
    );
    await log.flush();
    for (const e of events()) expect(e.trace_id).toBe(`t-${e.message.slice(-1)}`);
    expect(events().every((e) => e.metadata.step === 2)).toBe(true);
  });

  it('precedence: metadata trace_id > withContext trace_id > active span', async () => {
    const log = clientWith();
    const tracer = new TracerProvider().getTracer('t');
    let spanTrace = '';
    let spanId = '';
    await tracer.startActiveSpan('op', async (span) => {
      spanTrace = span.spanContext().traceId;
      spanId = span.spanContext().spanId;
      await nextTick();
      log.info('span only');
      log.withContext({ trace_id: 'bound' }, () => {
        log.info('bound');
        log.info('explicit', { trace_id: 'explicit' });
      });
      span.end();
    });
    await log.flush();
    const byMessage = Object.fromEntries(events().map((e) => [e.message, e]));
    expect(byMessage['span only']).toMatchObject({ trace_id: spanTrace, metadata: { span_id: spanId } });
    expect(byMessage.bound).toMatchObject({ trace_id: 'bound', metadata: { span_id: spanId } });
    expect(byMessage.explicit).toMatchObject({ trace_id: 'explicit' });
    expect(trace.getSpan(context.active())).toBeUndefined();
  });

  it('runs fn even with unusable metadata, and propagates what fn throws', () => {
    const log = clientWith();
    expect(log.withContext(null as never, () => 1)).toBe(1);
    expect(() => log.withContext({}, () => { throw new Error('app error'); })).toThrow('app error');
  });
});
