import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { AstralogConfigError, createAstralog, type Astralog, type AstralogOptions } from '../../src/index.ts';
import { wrapHandler, type LambdaCallback, type LambdaContext } from '../../src/integrations/lambda.ts';
import { STATE, type RegisterState } from '../../src/register/gate.ts';
import { captureStderr, TEST_KEY } from '../support/exporting.ts';
import { expectAccounted } from '../support/processing.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// wrapHandler against a real receiver on loopback (createAstralog), and with a stand-in client where
// the subject is the wrapper's own logic (the bound it computes, the order of things, odd contexts).
// register's client, in a real process, is in test/e2e/lambda.test.ts.

let receiver: Receiver;
let stderr: ReturnType<typeof captureStderr>;
let client: Astralog | undefined;

/** No flush on interval: whatever reaches the receiver was sent by the wrapper's flush. */
function clientWith(options: Partial<AstralogOptions> = {}): Astralog {
  client = createAstralog({ apiKey: TEST_KEY, endpoint: receiver.url, service: 'fn', flushIntervalMs: 600_000, ...options });
  return client;
}

/** A context as AWS Lambda passes it, reporting `ms` left. */
const lambdaContext = (ms: number) => ({ awsRequestId: 'req-1', functionName: 'fn', getRemainingTimeInMillis: () => ms });

/** A client of the test's making: records what the wrapper asks of it. */
function standIn(flush: (timeoutMs?: number) => Promise<void> = async () => {}) {
  return { event: vi.fn(), flush: vi.fn(flush) } as unknown as Astralog & { flush: ReturnType<typeof vi.fn> };
}

const registerGlobal = globalThis as Record<symbol, RegisterState | undefined>;
let savedRegisterState: RegisterState | undefined;

beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
  stderr = captureStderr();
  savedRegisterState = registerGlobal[STATE];
  delete registerGlobal[STATE]; // register not loaded, unless a test says otherwise
});
afterEach(async () => {
  vi.useRealTimers();
  registerGlobal[STATE] = savedRegisterState;
  await client?.close();
  client = undefined;
  await receiver.close();
  stderr.restore();
});

type Event = { level: string; message: string; service: string; metadata?: Record<string, unknown> };
const messages = () => (receiver.accepted as Event[]).map((e) => e.message);

describe('wrapHandler with createAstralog, against a receiver', () => {
  it("async handler: the events are at the receiver when the invocation resolves, the result unchanged", async () => {
    const log = clientWith();
    const flush = vi.spyOn(log, 'flush');
    const result = { statusCode: 200, body: 'ok' };
    const handler = wrapHandler(
      async (event: { orderId: string }) => {
        log.info('order received', { order_id: event.orderId });
        await new Promise((r) => setImmediate(r));
        log.warn('stock low');
        return result;
      },
      { client: log },
    );

    const returned = await handler({ orderId: 'o-1' }, lambdaContext(60_000));
    // Read at once, no waiting: the receiver stores a request's events before it answers 2xx.
    expect(messages()).toEqual(['order received', 'stock low']);
    expect(returned).toBe(result);
    expect(flush).toHaveBeenCalledTimes(1);
    expect(flush).toHaveBeenCalledWith(59_500); // the time left minus the default margin of 500 ms
    expectAccounted(log.stats());
  });

  it('promise-returning (not async) handler: the same', async () => {
    const log = clientWith();
    const handler = wrapHandler((event: number) => {
      log.info(`got ${event}`);
      return new Promise<number>((resolve) => setImmediate(() => resolve(event * 2)));
    }, { client: log });
    expect(await handler(21, lambdaContext(30_000))).toBe(42);
    expect(messages()).toEqual(['got 21']);
  });

  it("the handler's error is rethrown unchanged, after its events are delivered", async () => {
    const log = clientWith();
    const failure = new TypeError('no such order');
    const handler = wrapHandler(async () => {
      log.error('lookup failed');
      throw failure;
    }, { client: log });
    let seenAtRejection: string[] = [];
    const rejection = await handler({}, lambdaContext(30_000)).then(
      () => undefined,
      (error: unknown) => {
        seenAtRejection = messages();
        return error;
      },
    );
    expect(rejection).toBe(failure);
    expect(seenAtRejection).toEqual(['lookup failed']);
  });

  it('a synchronous throw and a rejected promise (non-Error reason) are rethrown unchanged too', async () => {
    const log = clientWith();
    const thrown = new Error('sync');
    const syncThrow = wrapHandler(() => {
      log.info('before sync throw');
      throw thrown;
    }, { client: log });
    await expect(syncThrow({}, lambdaContext(30_000))).rejects.toBe(thrown);
    expect(messages()).toEqual(['before sync throw']);

    const reason = { code: 'E_PLAIN_OBJECT' };
    const rejecting = wrapHandler(() => {
      log.info('before rejection');
      return Promise.reject(reason);
    }, { client: log });
    await expect(rejecting({}, lambdaContext(30_000))).rejects.toBe(reason);
    expect(messages()).toEqual(['before sync throw', 'before rejection']);
  });

  it('black-hole receiver: the invocation returns at the time left minus the margin (fake clock), holding the result', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const log = clientWith({ shutdownTimeoutMs: 100 }); // close() need not wait for the black hole
    const flush = vi.spyOn(log, 'flush');
    const handler = wrapHandler(async () => {
      log.info('into the void');
      return 'done';
    }, { client: log, marginMs: 250 });

    let settled = false;
    const invocation = handler({}, lambdaContext(1_250)).finally(() => {
      settled = true;
    });
    await receiver.waitForRequests(1); // the flush's request is on the wire, and will never be answered
    expect(flush).toHaveBeenCalledWith(1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(invocation).resolves.toBe('done');
    expect(receiver.accepted).toHaveLength(0);
    expect(log.stats()).toMatchObject({ emitted: 1, exported: 0, inFlight: 1 });
  });

  it('callback-style handler: the callback result is returned after the flush; callback(error) rejects with it', async () => {
    const log = clientWith();
    const ok = wrapHandler((event: string, _context: LambdaContext, callback: LambdaCallback<string>) => {
      log.info(`callback ${event}`);
      setImmediate(() => callback(null, `${event}!`));
    }, { client: log });
    expect(ok.length).toBe(2); // a promise-returning handler to the runtime (Node 24 has no callback handlers)
    expect(await ok('hi', lambdaContext(30_000))).toBe('hi!');
    expect(messages()).toEqual(['callback hi']);

    const failure = new Error('callback failure');
    const failing = wrapHandler((_event: unknown, _context: unknown, callback: LambdaCallback) => {
      log.info('callback failing');
      callback(failure);
      callback(null, 'ignored'); // the first call decides, as with the runtime
    }, { client: log });
    await expect(failing({}, lambdaContext(30_000))).rejects.toBe(failure);
    expect(messages()).toEqual(['callback hi', 'callback failing']);
  });
});

describe('wrapHandler: what it asks of the client', () => {
  it('flushes once, after the handler settles and before the invocation does', async () => {
    const steps: string[] = [];
    const stub = standIn(async () => {
      steps.push('flush start');
      await new Promise((r) => setImmediate(r));
      steps.push('flush end');
    });
    const handler = wrapHandler(async () => {
      await new Promise((r) => setImmediate(r));
      steps.push('handler done');
      return 1;
    }, { client: stub });
    await handler({}, lambdaContext(5_000)).then(() => steps.push('invocation resolved'));
    expect(steps).toEqual(['handler done', 'flush start', 'flush end', 'invocation resolved']);
  });

  it('the bound: time left minus marginMs, read when the handler is done, never negative', async () => {
    const cases: Array<[remaining: number, marginMs: number | undefined, bound: number]> = [
      [3_000, undefined, 2_500],
      [3_000, 0, 3_000],
      [3_000, 1_000, 2_000],
      [1_234.7, 500, 734],
      [400, 500, 0], // less left than the margin: flush(0) starts the sends but does not wait
      [0, 500, 0],
      [-20, 500, 0],
      [1e15, 500, 2_147_483_647], // setTimeout's limit (beyond it a timer fires at once)
    ];
    for (const [remaining, marginMs, bound] of cases) {
      const stub = standIn();
      const handler = wrapHandler(async () => 'r', marginMs === undefined ? { client: stub } : { client: stub, marginMs });
      expect(await handler({}, lambdaContext(remaining))).toBe('r');
      expect(stub.flush.mock.calls, `remaining ${remaining}, margin ${marginMs}`).toEqual([[bound]]);
    }

    let left = 10_000;
    const stub = standIn();
    const handler = wrapHandler(async () => {
      left = 2_000; // the handler took 8 s
    }, { client: stub });
    await handler({}, { getRemainingTimeInMillis: () => left });
    expect(stub.flush.mock.calls).toEqual([[1_500]]);
  });

  it("a context that does not say, or says garbage, gets the client's default bound, and the invocation is unaffected", async () => {
    const throwingGetter = Object.defineProperty({}, 'getRemainingTimeInMillis', {
      get() {
        throw new Error('getter');
      },
    });
    const hostile = new Proxy({}, { get: () => { throw new Error('proxy'); } });
    const contexts: unknown[] = [
      undefined,
      null,
      {},
      'a string',
      { getRemainingTimeInMillis: 3_000 }, // not a function
      { getRemainingTimeInMillis: () => { throw new Error('broken'); } },
      { getRemainingTimeInMillis: () => NaN },
      { getRemainingTimeInMillis: () => Infinity },
      { getRemainingTimeInMillis: () => '3000' },
      { getRemainingTimeInMillis: () => 3_000n },
      { getRemainingTimeInMillis: () => undefined },
      throwingGetter,
      hostile,
    ];
    for (const context of contexts) {
      const stub = standIn();
      const handler = wrapHandler(async () => 'result', { client: stub });
      expect(await handler({}, context as LambdaContext)).toBe('result');
      expect(stub.flush.mock.calls, String(contexts.indexOf(context))).toEqual([[undefined]]);
    }
  });

  it("a client's flush that throws, rejects or never settles does not reach the invocation (settles by the bound)", async () => {
    const thrown = standIn(() => {
      throw new Error('flush threw');
    });
    expect(await wrapHandler(async () => 1, { client: thrown })({}, lambdaContext(5_000))).toBe(1);
    const rejected = standIn(() => Promise.reject(new Error('flush rejected')));
    expect(await wrapHandler(async () => 2, { client: rejected })({}, {})).toBe(2);
    const failure = new Error('handler');
    await expect(wrapHandler(async () => { throw failure; }, { client: rejected })({}, lambdaContext(5_000))).rejects.toBe(failure);

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const never = standIn(() => new Promise<void>(() => {}));
    let settled = false;
    const invocation = wrapHandler(async () => 3, { client: never, marginMs: 100 })({}, lambdaContext(600)).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(invocation).resolves.toBe(3);
  });

  it('passes `this`, the event and the context through', async () => {
    const stub = standIn();
    const self = { name: 'service object' };
    const event = { id: 1 };
    const context = lambdaContext(5_000);
    const seen: unknown[] = [];
    const handler = wrapHandler(function (this: unknown, e: unknown, c: unknown) {
      seen.push(this, e, c);
      return Promise.resolve('ok');
    }, { client: stub });
    expect(await handler.call(self, event, context)).toBe('ok');
    expect(seen[0]).toBe(self);
    expect(seen[1]).toBe(event);
    expect(seen[2]).toBe(context);
  });

  it('callback-style handlers: settle on the callback or on a returned promise, whichever comes first; a synchronous throw rejects', async () => {
    const stub = standIn();
    const asyncWithCallback = wrapHandler(async (_e: unknown, _c: unknown, _callback: LambdaCallback) => 'from promise', { client: stub });
    expect(await asyncWithCallback({}, {})).toBe('from promise');
    const thrown = new Error('sync in callback style');
    const throwing = wrapHandler((_e: unknown, _c: unknown, _callback: LambdaCallback) => {
      throw thrown;
    }, { client: stub });
    await expect(throwing({}, {})).rejects.toBe(thrown);
    const nullError = wrapHandler((_e: unknown, _c: unknown, callback: LambdaCallback<number>) => callback(undefined, 7), { client: stub });
    expect(await nullError({}, {})).toBe(7);
    expect(stub.flush).toHaveBeenCalledTimes(3);
  });
});

describe('wrapHandler: where the client comes from, and bad options', () => {
  it("no client and register not loaded: AstralogConfigError at wrap time, naming 'client' and register", () => {
    const handler = vi.fn();
    let error: unknown;
    try {
      wrapHandler(handler);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AstralogConfigError);
    expect(error).toMatchObject({ option: 'client', message: expect.stringContaining('@astralog/otel/register') });
    expect(handler).not.toHaveBeenCalled();
  });

  it("register loaded and on: its client is flushed; given a client, that one is", async () => {
    const registers = standIn();
    registerGlobal[STATE] = { status: 'on', client: registers };
    expect(await wrapHandler(async () => 'a')({}, lambdaContext(2_000))).toBe('a');
    expect(registers.flush.mock.calls).toEqual([[1_500]]);

    const own = standIn();
    expect(await wrapHandler(async () => 'b', { client: own })({}, lambdaContext(2_000))).toBe('b');
    expect(own.flush).toHaveBeenCalledTimes(1);
    expect(registers.flush).toHaveBeenCalledTimes(1);
  });

  it('register loaded but off (no key): the wrapper only calls the handler', async () => {
    for (const status of ['off', 'disabled', 'invalid', 'failed'] as const) {
      registerGlobal[STATE] = { status };
      const failure = new Error(status);
      expect(await wrapHandler(async (e: number) => e + 1)(1, lambdaContext(2_000))).toBe(2);
      await expect(wrapHandler(async () => { throw failure; })({}, {})).rejects.toBe(failure);
    }
  });

  it('a bad option is an AstralogConfigError naming it', () => {
    const stub = standIn();
    const handler = async () => 1;
    const cases: Array<[() => unknown, string]> = [
      [() => wrapHandler(handler, { client: stub, marginMs: -1 }), 'marginMs'],
      [() => wrapHandler(handler, { client: stub, marginMs: 1.5 }), 'marginMs'],
      [() => wrapHandler(handler, { client: stub, marginMs: NaN }), 'marginMs'],
      [() => wrapHandler(handler, { client: stub, marginMs: 900_001 }), 'marginMs'],
      [() => wrapHandler(handler, { client: stub, marginMs: '500' as never }), 'marginMs'],
      [() => wrapHandler(handler, { client: stub, margin: 500 } as never), 'margin'],
      [() => wrapHandler(handler, { client: {} as never }), 'client'],
      [() => wrapHandler(handler, { client: null as never }), 'client'],
      [() => wrapHandler(handler, 'fast' as never), 'options'],
      [() => wrapHandler(handler, null as never), 'options'],
      [() => wrapHandler('handler' as never, { client: stub }), 'handler'],
    ];
    for (const [wrap, option] of cases) {
      let error: unknown;
      try {
        wrap();
      } catch (e) {
        error = e;
      }
      expect(error, option).toBeInstanceOf(AstralogConfigError);
      expect((error as AstralogConfigError).option).toBe(option);
    }
    expect(() => wrapHandler(handler, { client: stub, margin: 500 } as never)).toThrow(/did you mean 'marginMs'/);
    expect(() => wrapHandler(handler, { client: stub, marginMs: -1 })).toThrow(/marginMs: expected an integer from 0 to 900000, got -1/);
  });
});

// Types only (checked by tsc, nothing to run): the shapes users write, without @types/aws-lambda.
// A copy of its Context and Handler, to check that a wrapped handler is one.
interface AwsContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
  done(error?: Error, result?: unknown): void;
  fail(error: Error | string): void;
  succeed(messageOrObject: unknown): void;
}
type AwsHandler<TEvent = any, TResult = any> = (event: TEvent, context: AwsContext, callback: (error?: Error | string | null, result?: TResult) => void) => void | Promise<TResult>;

function typeShapes(client: Astralog): void {
  // Unannotated: the event is `any` (as in @types/aws-lambda), the context ours, the result inferred.
  const handler = wrapHandler(async (event, context) => {
    expectTypeOf(context).toEqualTypeOf<LambdaContext>();
    return { statusCode: 200, body: String(event.body) };
  }, { client });
  expectTypeOf(handler).returns.toEqualTypeOf<Promise<{ statusCode: number; body: string }>>();
  const asAws: AwsHandler = handler;

  // Annotated with AWS's types: the wrapped handler keeps them, and is an AWS handler.
  const typed = wrapHandler(async (event: { id: string }, context: AwsContext) => context.awsRequestId + event.id);
  expectTypeOf(typed).parameters.toEqualTypeOf<[{ id: string }, AwsContext]>();
  const typedAws: AwsHandler<{ id: string }, string> = typed;

  // Callback style: the result type comes from the callback's.
  const callbackStyle = wrapHandler((_event: unknown, _context: LambdaContext, callback: LambdaCallback<number>) => callback(null, 1));
  expectTypeOf(callbackStyle).returns.toEqualTypeOf<Promise<number>>();

  // Other platforms: any context type.
  const other = wrapHandler(async (request: Request, env: { KV: string }) => new Response(env.KV + request.url));
  expectTypeOf(other).returns.toEqualTypeOf<Promise<Response>>();

  // @ts-expect-error: the options are checked
  wrapHandler(async () => 1, { marginMs: '500' });
  void [asAws, typedAws];
}
void typeShapes;
