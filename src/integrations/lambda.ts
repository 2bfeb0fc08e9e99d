// @astralog/otel/lambda: a handler wrapper for serverless functions, which are frozen (or ended) as
// soon as the invocation returns, so logs must be sent before it does, within the time left.
import type { Astralog } from '../client/client.ts';
import { AstralogConfigError } from '../config/errors.ts';
import { integerOption, rejectUnknownOptions } from '../config/validate.ts';
import { untilDeadline } from '../deadline.ts';
import { clientFor } from './client-source.ts';

/**
 * What the wrapper reads of the invocation context: AWS Lambda's `getRemainingTimeInMillis()`.
 * The other members are AWS's, listed (optional) so that a handler can use them untyped; pass the
 * `Context` of `@types/aws-lambda` (or any other type) by annotating the handler's parameter.
 */
export interface LambdaContext {
  /** Milliseconds before the platform stops the invocation. Without it, the client's default flush bound applies. */
  getRemainingTimeInMillis?(): number;
  readonly awsRequestId?: string;
  readonly functionName?: string;
  readonly functionVersion?: string;
  readonly invokedFunctionArn?: string;
  readonly memoryLimitInMB?: string;
  readonly logGroupName?: string;
  readonly logStreamName?: string;
  callbackWaitsForEmptyEventLoop?: boolean;
}

/** The callback of a callback-style handler: `callback(error)` fails the invocation, `callback(null, result)` completes it. */
export type LambdaCallback<TResult = any> = (error?: unknown, result?: TResult) => void;

/** A wrapped handler: always promise-returning (the form every Node.js Lambda runtime accepts, 24 included). */
export type WrappedHandler<TEvent = any, TResult = any, TContext = LambdaContext> = (event: TEvent, context: TContext) => Promise<TResult>;

export interface WrapHandlerOptions {
  /** The client whose logs are flushed. Default: register's (`--import @astralog/otel/register`). */
  client?: Astralog;
  /**
   * Time kept back from what the platform says is left, for the response to go out before the
   * platform's timeout: the flush waits at most `getRemainingTimeInMillis() - marginMs`. Default 500.
   */
  marginMs?: number;
}

const DEFAULT_MARGIN_MS = 500;
const KNOWN = new Set(['client', 'marginMs']);
/** setTimeout's limit: beyond it Node fires at once, so a longer bound would end the flush immediately. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Wraps a serverless handler so that everything logged during the invocation is sent before it
 * returns: after the handler settles, the client is flushed, for at most the time the platform
 * says is left minus `marginMs`; then the handler's result is returned, or its error rethrown,
 * unchanged. Callback-style handlers (three parameters) are supported too: the wrapper calls them
 * with a callback and returns a promise. `this` is passed through. Throws AstralogConfigError here,
 * at wrap time, for a bad option or when there is no client (none given and register not loaded);
 * when register is loaded but off, the wrapper only calls the handler.
 */
export function wrapHandler<TEvent = any, TResult = any, TContext = LambdaContext>(
  handler: (event: TEvent, context: TContext) => TResult,
  options?: WrapHandlerOptions,
): WrappedHandler<TEvent, Awaited<TResult>, TContext>;
export function wrapHandler<TEvent = any, TResult = any, TContext = LambdaContext>(
  handler: (event: TEvent, context: TContext, callback: LambdaCallback<TResult>) => void,
  options?: WrapHandlerOptions,
): WrappedHandler<TEvent, TResult, TContext>;
export function wrapHandler(handler: (...args: any[]) => unknown, options?: WrapHandlerOptions): WrappedHandler<unknown, unknown, unknown> {
  if (typeof handler !== 'function') throw new AstralogConfigError('handler', `expected a function, got ${handler === null ? 'null' : typeof handler}`);
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new AstralogConfigError('options', `expected an object, got ${options === null ? 'null' : typeof options}`);
  }
  const given = options ?? {};
  rejectUnknownOptions('wrapHandler', given, KNOWN);
  const marginMs = integerOption('marginMs', given.marginMs, DEFAULT_MARGIN_MS, { min: 0, max: 900_000 });
  const client = clientFor(given.client, 'wrapHandler');
  // As the Lambda runtime decides: a handler declaring a third parameter expects the callback.
  const callbackStyle = handler.length >= 3;

  return async function astralogWrappedHandler(this: unknown, event: unknown, context: unknown): Promise<unknown> {
    let result: unknown;
    let failed = false;
    let error: unknown;
    try {
      result = await (callbackStyle ? invokeWithCallback(handler, this, event, context) : handler.call(this, event, context));
    } catch (thrown) {
      failed = true;
      error = thrown;
    }
    if (client !== undefined) await flushWithin(client, flushBound(context, marginMs));
    if (failed) throw error; // the handler's own error, unchanged
    return result;
  };
}

/** Settles on the first of: the callback, or the promise the handler returns (async handlers may take a callback too). */
function invokeWithCallback(handler: (...args: any[]) => unknown, self: unknown, event: unknown, context: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // As the runtime reads it: any error but null and undefined fails the invocation.
    const callback: LambdaCallback = (error, result) => (error !== undefined && error !== null ? reject(error) : resolve(result));
    const returned = handler.call(self, event, context, callback); // a synchronous throw rejects
    if (isThenable(returned)) returned.then(resolve, reject);
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * How long the flush may take: what the platform says is left minus the margin, never negative;
 * undefined (the client's own default) when the context does not say, or says something unusable
 * (a throwing getter, NaN, a string): the wrapper must not fail the invocation over it.
 */
function flushBound(context: unknown, marginMs: number): number | undefined {
  let remaining: unknown;
  try {
    const get = (context as LambdaContext | null | undefined)?.getRemainingTimeInMillis;
    if (typeof get !== 'function') return undefined;
    remaining = get.call(context);
  } catch {
    return undefined;
  }
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return Math.min(MAX_TIMER_MS, Math.max(0, Math.floor(remaining - marginMs)));
}

/** Never rejects; with a bound, settles by it even if a client of someone else's making does not. */
function flushWithin(client: Astralog, boundMs: number | undefined): Promise<void> {
  const flushed = Promise.resolve().then(() => client.flush(boundMs));
  if (boundMs === undefined) return flushed.then(noop, noop);
  return untilDeadline(Date.now() + boundMs, flushed);
}

const noop = (): void => {};
