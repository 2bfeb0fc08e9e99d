import { Writable } from 'node:stream';
import pino10 from 'pino';
import pino9 from 'pino9';
import { describe, expect, it } from 'vitest';
import { AstralogConfigError, type Astralog } from '../../src/index.ts';
import { astralogStream } from '../../src/integrations/pino.ts';
import { asIfRegistered, useClientAndReceiver } from '../support/client-fixture.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { expectSpanCorrelation, logAroundSpan } from '../support/span-lines.ts';

// astralogStream() behind real pino loggers (10 and 9), through a real client, to a loopback receiver.

type Event = { level: string; message: string; service: string; trace_id?: string; metadata?: Record<string, unknown> };

const fx = useClientAndReceiver('pino-test');
const delivered = (): Promise<Event[]> => fx.delivered() as Promise<Event[]>;

/** A destination that keeps nothing: the other half of a multistream. */
const sink = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() });

describe.each([
  ['pino 10', pino10],
  ['pino 9', pino9 as unknown as typeof pino10],
])('astralogStream with %s', (_name, pino) => {
  it('maps the default levels, and sends msg as the message and the other fields as metadata', async () => {
    const logger = pino({ level: 'trace', base: null }, astralogStream({ client: fx.client }));
    logger.trace('t');
    logger.debug('d');
    logger.info({ user_id: 'usr_1', nested: { a: [1, 2] } }, 'i');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    const events = await delivered();
    expect(events.map((e) => [e.level, e.message, e.service])).toEqual([
      ['trace', 't', 'pino-test'], ['debug', 'd', 'pino-test'], ['info', 'i', 'pino-test'],
      ['warn', 'w', 'pino-test'], ['error', 'e', 'pino-test'], ['fatal', 'f', 'pino-test'],
    ]);
    // level, time and msg are pino's framing, not metadata
    expect(events[2]!.metadata).toEqual({ user_id: 'usr_1', nested: { a: [1, 2] } });
    expect(events[0]!.metadata ?? {}).toEqual({});
  });

  it("keeps pino's base fields (pid, hostname) and child bindings as metadata", async () => {
    const logger = pino(astralogStream({ client: fx.client }));
    logger.child({ request_id: 'r-1' }).child({ step: 2 }).info('bound');
    const [event] = await delivered();
    expect(event).toMatchObject({ level: 'info', message: 'bound' });
    expect(event!.metadata).toEqual({ pid: process.pid, hostname: expect.any(String), request_id: 'r-1', step: 2 });
  });

  it('sends custom levels by name (customLevels, useOnlyCustomLevels, a child with its own levels)', async () => {
    const withCustom = pino({ base: null, customLevels: { audit: 35, alarm: 55 } }, astralogStream({ client: fx.client }));
    withCustom.audit('a');
    withCustom.alarm('b');
    withCustom.info('c');
    const only = pino({ base: null, customLevels: { critical: 60, chatter: 25 }, useOnlyCustomLevels: true, level: 'chatter' }, astralogStream({ client: fx.client }));
    only.critical('d');
    only.chatter('e');
    const child = pino({ base: null }, astralogStream({ client: fx.client })).child({}, { customLevels: { notice: 33 } });
    (child as unknown as Record<string, (m: string) => void>).notice!('f');
    const events = await delivered();
    expect(events.map((e) => [e.level, e.message])).toEqual([
      ['audit', 'a'], ['alarm', 'b'], ['info', 'c'], ['critical', 'd'], ['chatter', 'e'], ['notice', 'f'],
    ]);
  });

  it('takes a string level from formatters.level as is, and the level of a formatter that renames it', async () => {
    const upper = pino({ base: null, formatters: { level: (label) => ({ level: label.toUpperCase() }) } }, astralogStream({ client: fx.client }));
    upper.warn('upper');
    const custom = pino(
      { base: null, customLevels: { audit: 35 }, formatters: { level: (label) => ({ severity: label }) } },
      astralogStream({ client: fx.client }),
    );
    custom.audit('renamed');
    const events = await delivered();
    expect(events.map((e) => [e.level, e.message])).toEqual([['warn', 'upper'], ['audit', 'renamed']]);
    expect(events[1]!.metadata).toEqual({ severity: 'audit' });
  });

  it("honours pino's redact and serializers (what the line says is what is sent)", async () => {
    const logger = pino(
      {
        base: null,
        redact: { paths: ['card.number', 'customer.email'] },
        serializers: { order: (o: { id: string; items: unknown[] }) => ({ id: o.id, count: o.items.length }) },
      },
      astralogStream({ client: fx.client }),
    );
    logger.info({ card: { number: '4111111111111111', brand: 'visa' }, customer: { email: 'a@b.c', id: 7 }, order: { id: 'o1', items: [1, 2, 3] } }, 'paid');
    const redactedAway = pino({ base: null, redact: { paths: ['card.number'], remove: true } }, astralogStream({ client: fx.client }));
    redactedAway.info({ card: { number: '4111111111111111', brand: 'visa' } }, 'removed');
    const events = await delivered();
    expect(events[0]!.metadata).toEqual({ card: { number: '[Redacted]', brand: 'visa' }, customer: { email: '[Redacted]', id: 7 }, order: { id: 'o1', count: 3 } });
    expect(events[1]!.metadata).toEqual({ card: { brand: 'visa' } });
  });

  it("sends pino's serialised err, with the error's message when there is no other", async () => {
    const logger = pino({ base: null }, astralogStream({ client: fx.client }));
    const err = Object.assign(new Error('boom'), { code: 'E_BOOM' });
    logger.error(err, 'payment failed');
    logger.error(err);
    logger.warn({ err, order_id: 'o-9' }, 'retrying');
    const events = await delivered();
    expect(events.map((e) => [e.level, e.message])).toEqual([['error', 'payment failed'], ['error', 'boom'], ['warn', 'retrying']]);
    for (const event of events) {
      expect(event.metadata!.err).toMatchObject({ type: 'Error', message: 'boom', code: 'E_BOOM', stack: expect.stringContaining('boom') });
    }
    expect(events[2]!.metadata!.order_id).toBe('o-9');
  });

  it("learns the logger's messageKey from pino; the option wins", async () => {
    const learned = pino({ base: null, messageKey: 'message' }, astralogStream({ client: fx.client }));
    learned.info({ a: 1 }, 'learned');
    const given = pino({ base: null, messageKey: 'text' }, astralogStream({ client: fx.client, messageKey: 'text' }));
    given.info('given');
    const events = await delivered();
    expect(events.map((e) => [e.message, e.metadata ?? {}])).toEqual([['learned', { a: 1 }], ['given', {}]]);
  });

  it('works inside pino.multistream, at the level it is given there, custom levels included', async () => {
    const streams = pino.multistream(
      [
        { stream: sink(), level: 'trace' },
        { stream: astralogStream({ client: fx.client }), level: 'warn' },
      ],
      { levels: { ...pino.levels.values, alarm: 55 } },
    );
    const logger = pino({ base: null, level: 'trace', customLevels: { alarm: 55 } }, streams);
    logger.info('not for astralog');
    logger.warn('w');
    logger.alarm('a');
    logger.fatal('f');
    streams.end(); // sends what is queued, without a flush of ours
    await fx.receiver.waitForEvents(3);
    expect((fx.receiver.accepted as Event[]).map((e) => [e.level, e.message])).toEqual([['warn', 'w'], ['alarm', 'a'], ['fatal', 'f']]);
  });

  it("puts the active span's trace id on lines logged inside it; an explicit trace_id field wins", async () => {
    const logger = pino({ base: null }, astralogStream({ client: fx.client }));
    const ids = await logAroundSpan({
      plain: (message) => logger.info(message),
      withTraceId: (message, traceId) => logger.info({ trace_id: traceId }, message),
      boundTo: (traceId, message) => logger.child({ trace_id: traceId }).info(message),
    });
    const byMessage = Object.fromEntries((await delivered()).map((e) => [e.message, e]));
    expectSpanCorrelation(byMessage, ids);
    expect(byMessage.explicit!.metadata ?? {}).not.toHaveProperty('trace_id'); // promoted to the root
  });

  it("keeps the trace_id/span_id fields a mixin put on the line (as instrumentation-pino's does)", async () => {
    const logger = pino({ base: null, mixin: () => ({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', trace_flags: '01' }) }, astralogStream({ client: fx.client }));
    logger.info('mixed in');
    const [event] = await delivered();
    expect(event!.trace_id).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(event!.metadata).toEqual({ span_id: 'b7ad6b7169203331', trace_flags: '01' });
  });

  it("flushes to Astralog on logger.flush(cb)", async () => {
    const logger = pino({ base: null }, astralogStream({ client: fx.client }));
    logger.info('one');
    logger.info('two');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    // calls back once the events are delivered, without a flush of ours
    expect((fx.receiver.accepted as Event[]).map((e) => e.message)).toEqual(['one', 'two']);
  });
});

describe('astralogStream, direct writes', () => {
  it('sends a line that is not JSON as its text, and skips empty lines', async () => {
    const stream = astralogStream({ client: fx.client });
    expect(stream.write('plain text\n')).toBe(true);
    stream.write('{"not": "closed"\n');
    stream.write('42\n');
    stream.write('\n');
    stream.write('{"level":40,"time":1,"msg":"first"}\n{"level":50,"time":1,"msg":"second"}\n');
    const events = await delivered();
    expect(events.map((e) => [e.level, e.message])).toEqual([
      ['info', 'plain text'], ['info', '{"not": "closed"'], ['info', '42'], ['warn', 'first'], ['error', 'second'],
    ]);
  });

  it('never throws, whatever the client or the line does', () => {
    const throwing = { event: () => { throw new Error('client bug'); }, info: () => { throw new Error('client bug'); }, flush: () => Promise.reject(new Error('x')) } as unknown as Astralog;
    const stream = astralogStream({ client: throwing });
    expect(stream.write('{"level":30,"msg":"x"}\n')).toBe(true);
    expect(stream.write('not json')).toBe(true);
    expect(stream.write(undefined as never)).toBe(true);
    expect(stream.write({ toString: () => { throw new Error('hostile'); } } as never)).toBe(true);
    expect(() => stream.end()).not.toThrow();
    expect(() => stream.emit('message', { code: 'PINO_CONFIG', get config(): never { throw new Error('hostile'); } })).not.toThrow();
    const logger = pino10(stream);
    expect(() => logger.info('through pino')).not.toThrow();
  });

  it('without a client and without register: a clear error at construction', () => {
    expect(() => astralogStream()).toThrow(AstralogConfigError);
    expect(() => astralogStream()).toThrow(/astralogStream\(\) needs a client.*@astralog\/otel\/register/);
    expect(() => astralogStream({ client: {} as never })).toThrow(/client: expected a client from createAstralog/);
  });

  it('under register that is off: does nothing, quietly', async () => {
    await asIfRegistered({ status: 'off' }, async () => {
      const stream = astralogStream();
      const logger = pino10(stream);
      logger.info('dropped');
      expect(stream.write('text')).toBe(true);
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    });
    expect(await delivered()).toEqual([]);
    expect(fx.stderr.lines()).toEqual([]);
  });

  it("uses register's client when given none", async () => {
    await asIfRegistered({ status: 'on', client: fx.client }, async () => {
      pino10({ base: null }, astralogStream()).info('via register');
    });
    expect((await delivered()).map((e) => e.message)).toEqual(['via register']);
  });
});
