import { trace } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import winston from 'winston';
import TransportStream from 'winston-transport';
import { AstralogConfigError, type Astralog } from '../../src/index.ts';
import { AstralogTransport } from '../../src/integrations/winston.ts';
import { asIfRegistered, useClientAndReceiver } from '../support/client-fixture.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { expectSpanCorrelation, logAroundSpan } from '../support/span-lines.ts';

// AstralogTransport behind real winston loggers, through a real client, to a loopback receiver.

type Event = { level: string; message: string; service: string; trace_id?: string; metadata?: Record<string, unknown> };

const fx = useClientAndReceiver('winston-test');
const delivered = (): Promise<Event[]> => fx.delivered() as Promise<Event[]>;

/**
 * A transport that calls back later, as File and Http do: while it is behind, winston holds the
 * logger's output back, and delivers it to every transport later, outside the caller's context.
 */
class LateTransport extends TransportStream {
  override log(_info: unknown, callback: () => void): void {
    setImmediate(callback);
  }
}

const tracer = new TracerProvider().getTracer('t');

/** Resolves once `transport` has handled `n` logs (it emits 'logged' for each). */
function handled(transport: TransportStream, n: number): Promise<void> {
  let count = 0;
  return new Promise((resolve) => {
    transport.on('logged', () => {
      if (++count === n) resolve();
    });
  });
}

describe('AstralogTransport', () => {
  it("maps npm levels to Astralog's (http -> info, verbose -> debug, silly -> trace)", async () => {
    const logger = winston.createLogger({ level: 'silly', transports: [new AstralogTransport({ client: fx.client })] });
    for (const level of ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']) logger.log(level, level);
    const events = await delivered();
    expect(events.map((e) => [e.message, e.level])).toEqual([
      ['error', 'error'], ['warn', 'warn'], ['info', 'info'], ['http', 'info'], ['verbose', 'debug'], ['debug', 'debug'], ['silly', 'trace'],
    ]);
  });

  it('maps syslog levels (emerg/alert/crit -> fatal, warning -> warn, notice -> info) and keeps custom ones', async () => {
    const syslog = winston.createLogger({ levels: winston.config.syslog.levels, level: 'debug', transports: [new AstralogTransport({ client: fx.client })] });
    for (const level of ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug']) syslog.log(level, level);
    const custom = winston.createLogger({ levels: { critical: 0, audit: 1, info: 2 }, level: 'info', transports: [new AstralogTransport({ client: fx.client })] });
    custom.log('critical', 'critical');
    custom.log('audit', 'audit');
    custom.log('info', 'info');
    const cli = winston.createLogger({ levels: winston.config.cli.levels, level: 'silly', transports: [new AstralogTransport({ client: fx.client })] });
    cli.log('help', 'help');
    const events = await delivered();
    expect(events.map((e) => [e.message, e.level])).toEqual([
      ['emerg', 'fatal'], ['alert', 'fatal'], ['crit', 'fatal'], ['error', 'error'], ['warning', 'warn'], ['notice', 'info'],
      ['info', 'info'], ['debug', 'debug'], ['critical', 'critical'], ['audit', 'audit'], ['info', 'info'], ['help', 'help'],
    ]);
  });

  it('takes the level as logged, not as colorize painted it', async () => {
    const logger = winston.createLogger({
      format: winston.format.combine(winston.format.colorize({ all: true }), winston.format.simple()),
      transports: [new AstralogTransport({ client: fx.client })],
    });
    logger.warn('painted');
    const [event] = await delivered();
    expect(event).toMatchObject({ level: 'warn' });
  });

  it('sends defaultMeta, child bindings, meta objects and what formats add as metadata', async () => {
    const logger = winston.createLogger({
      defaultMeta: { service_version: '1.2.3' },
      format: winston.format.combine(winston.format.label({ label: 'api' }), winston.format.splat()),
      transports: [new AstralogTransport({ client: fx.client })],
    });
    logger.child({ request_id: 'r-1' }).info('paid %s', 'order-7', { amount: 12.5, tags: ['a'] });
    logger.info({ message: 'object form', user_id: 'u1' });
    const events = await delivered();
    expect(events[0]).toMatchObject({ level: 'info', message: 'paid order-7' });
    expect(events[0]!.metadata).toEqual({ service_version: '1.2.3', request_id: 'r-1', amount: 12.5, tags: ['a'], label: 'api' });
    expect(events[1]).toMatchObject({ message: 'object form', metadata: { service_version: '1.2.3', user_id: 'u1', label: 'api' } });
  });

  it('keeps errors: format.errors stacks, an Error logged alone, an Error as a meta value', async () => {
    const withErrors = winston.createLogger({ format: winston.format.errors({ stack: true }), transports: [new AstralogTransport({ client: fx.client })] });
    withErrors.error(new Error('formatted'));
    const plain = winston.createLogger({ transports: [new AstralogTransport({ client: fx.client })] });
    plain.error(new Error('alone'));
    plain.error('with cause', { err: Object.assign(new Error('inner'), { code: 'E_INNER' }) });
    const events = await delivered();
    expect(events.map((e) => [e.level, e.message])).toEqual([['error', 'formatted'], ['error', 'alone'], ['error', 'with cause']]);
    expect(events[0]!.metadata!.stack).toEqual(expect.stringContaining('Error: formatted'));
    expect(events[1]!.metadata!.stack).toEqual(expect.stringContaining('Error: alone'));
    // the exporter serialises Error values
    expect(events[2]!.metadata!.err).toMatchObject({ name: 'Error', message: 'inner', code: 'E_INNER', stack: expect.stringContaining('inner') });
  });

  it("puts the active span's trace id on logs written inside it; an explicit trace_id wins", async () => {
    const logger = winston.createLogger({ transports: [new AstralogTransport({ client: fx.client })] });
    const ids = await logAroundSpan({
      plain: (message) => logger.info(message),
      withTraceId: (message, traceId) => logger.info(message, { trace_id: traceId }),
      boundTo: (traceId, message) => logger.child({ trace_id: traceId }).info(message),
    });
    expectSpanCorrelation(Object.fromEntries((await delivered()).map((e) => [e.message, e])), ids);
  });

  it('keeps each log with its own span when a slower sibling transport makes winston deliver later', async () => {
    const ours = new AstralogTransport({ client: fx.client });
    const allHandled = handled(ours, 320);
    const logger = winston.createLogger({ transports: [new LateTransport(), ours] });
    const expected = new Map<string, string>(); // message -> trace id
    await Promise.all(
      Array.from({ length: 8 }, (_, request) =>
        tracer.startActiveSpan(`request ${request}`, async (span) => {
          await new Promise((resolve) => setImmediate(resolve));
          // 40 lines at once: far past the late transport's highWaterMark (16), so most are held back
          for (let line = 0; line < 40; line++) {
            const message = `request ${request} line ${line}`;
            expected.set(message, span.spanContext().traceId);
            logger.child({ request }).info(message);
          }
          span.end();
        }),
      ),
    );
    await allHandled;
    const events = await delivered();
    expect(events).toHaveLength(320);
    const mismatched = events.filter((e) => e.trace_id !== expected.get(e.message));
    expect(mismatched).toEqual([]);
  });

  it('keeps a log written outside any span without a trace id when winston delivers it later, inside a span', async () => {
    const ours = new AstralogTransport({ client: fx.client });
    const allHandled = handled(ours, 40);
    const logger = winston.createLogger({ transports: [new LateTransport(), ours] });
    // The first lines start winston's delayed deliveries from inside the span; the later ones, written
    // outside it, are held back and delivered by that same chain.
    tracer.startActiveSpan('request', (span) => {
      for (let line = 0; line < 20; line++) logger.info(`inside ${line}`);
      span.end();
    });
    for (let line = 0; line < 20; line++) logger.info(`outside ${line}`);
    await allHandled;
    const events = await delivered();
    expect(events).toHaveLength(40);
    expect(events.filter((e) => e.message.startsWith('inside') && e.trace_id === undefined)).toEqual([]);
    expect(events.filter((e) => e.message.startsWith('outside') && e.trace_id !== undefined)).toEqual([]);
  });

  it('runs its own format, too, in the context of the log call', async () => {
    const seen = new Map<string, string | undefined>(); // message -> trace id active in the format
    const capture = winston.format((info) => {
      seen.set(String(info.message), trace.getActiveSpan()?.spanContext().traceId);
      return info;
    });
    const ours = new AstralogTransport({ client: fx.client, format: capture() });
    const allHandled = handled(ours, 60);
    const logger = winston.createLogger({ transports: [new LateTransport(), ours] });
    const expected = new Map<string, string>();
    await Promise.all(
      [0, 1, 2].map((request) =>
        tracer.startActiveSpan(`request ${request}`, async (span) => {
          await new Promise((resolve) => setImmediate(resolve));
          for (let line = 0; line < 20; line++) {
            expected.set(`${request}/${line}`, span.spanContext().traceId);
            logger.info(`${request}/${line}`);
          }
          span.end();
        }),
      ),
    );
    await allHandled;
    const events = await delivered();
    expect(events).toHaveLength(60);
    expect(events.filter((e) => e.trace_id !== expected.get(e.message))).toEqual([]);
    expect([...seen].filter(([message, traceId]) => traceId !== expected.get(message))).toEqual([]);
  });

  it("calls back and emits 'logged' for every log, and never throws", () => {
    const throwing = { event: () => { throw new Error('client bug'); }, flush: () => Promise.resolve() } as unknown as Astralog;
    const transport = new AstralogTransport({ client: throwing });
    let logged = 0;
    transport.on('logged', () => logged++);
    let calledBack = 0;
    expect(() => transport.log({ level: 'info', message: 'x' }, () => calledBack++)).not.toThrow();
    expect(() => transport.log(null, () => calledBack++)).not.toThrow();
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('hostile'); } });
    expect(() => transport.log(hostile, () => calledBack++)).not.toThrow();
    expect(calledBack).toBe(3);
    expect(logged).toBe(3);
    const logger = winston.createLogger({ transports: [transport] });
    expect(() => logger.info('through winston')).not.toThrow();
  });

  it('sends what is queued when the logger closes (without closing the client)', async () => {
    const logger = winston.createLogger({ transports: [new AstralogTransport({ client: fx.client })] });
    logger.info('last words');
    logger.close();
    await fx.receiver.waitForEvents(1); // no flush of ours
    fx.client.info('client still open');
    expect((await delivered()).map((e) => e.message)).toEqual(['last words', 'client still open']);
  });

  it('honours the transport level option', async () => {
    const logger = winston.createLogger({ level: 'debug', transports: [new AstralogTransport({ client: fx.client, level: 'warn' })] });
    logger.debug('no');
    logger.info('no');
    logger.warn('yes');
    logger.error('yes');
    expect((await delivered()).map((e) => e.level)).toEqual(['warn', 'error']);
  });

  it('without a client and without register: a clear error at construction', () => {
    expect(() => new AstralogTransport()).toThrow(AstralogConfigError);
    expect(() => new AstralogTransport()).toThrow(/AstralogTransport needs a client.*@astralog\/otel\/register/);
  });

  it('under register that is off: does nothing, quietly', async () => {
    let calledBack = false;
    await asIfRegistered({ status: 'off' }, async () => {
      const transport = new AstralogTransport();
      winston.createLogger({ transports: [transport] }).info('dropped');
      transport.log({ level: 'info', message: 'dropped' }, () => (calledBack = true));
    });
    expect(calledBack).toBe(true);
    expect(await delivered()).toEqual([]);
    expect(fx.stderr.lines()).toEqual([]);
  });

  it("uses register's client when given none", async () => {
    await asIfRegistered({ status: 'on', client: fx.client }, async () => {
      winston.createLogger({ transports: [new AstralogTransport()] }).info('via register');
    });
    expect((await delivered()).map((e) => e.message)).toEqual(['via register']);
  });
});
