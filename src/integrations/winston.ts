// @astralog/otel/winston: a winston transport that sends each log through an Astralog client.
import type { Context } from '@opentelemetry/api';
import TransportStream from 'winston-transport';
import type { Astralog } from '../client/client.ts';
import { otelContextApi, otelRootContext } from '../globals/otel-packages.ts';
import { activeContextReadable } from '../ground/otel-registry.ts';
import { clientFor } from './client-source.ts';

export interface AstralogTransportOptions extends TransportStream.TransportStreamOptions {
  /** The client to send through (createAstralog()); default: register's. */
  client?: Astralog;
}

/** triple-beam's LEVEL: the level as logged, before any format (colorize) touched info.level. */
const LEVEL = Symbol.for('level');
/**
 * The context active when the log call was made. The same key as @opentelemetry/instrumentation-winston's,
 * so either of us may set it and both read it.
 */
const CALL_CONTEXT = Symbol.for('opentelemetry.js.contrib.winston.context');
/** Marks a logger whose write() already records CALL_CONTEXT (shared by the ESM and CommonJS builds). */
const RECORDS_CONTEXT = Symbol.for('@astralog/otel.winston.recordsContext');

/** winston's npm, syslog and cli level names that mean one of ours; other names are kept as custom levels. */
const LEVELS = new Map<string, string>([
  ['http', 'info'],
  ['verbose', 'debug'],
  ['silly', 'trace'],
  ['emerg', 'fatal'],
  ['alert', 'fatal'],
  ['crit', 'fatal'],
  ['warning', 'warn'],
  ['notice', 'info'],
]);

/**
 * Sends winston logs to Astralog: `winston.createLogger({ transports: [new AstralogTransport()] })`.
 * Level, message and the info's other fields (defaultMeta, child bindings, what formats added) as
 * metadata; the event carries the trace id of the span active at the log call. Throws
 * AstralogConfigError when there is no client (none given, register not loaded); does nothing when
 * register is loaded but off (it said why).
 */
export class AstralogTransport extends TransportStream {
  private readonly client: Astralog | undefined;

  constructor(options: AstralogTransportOptions = {}) {
    super(options);
    this.client = clientFor(options.client, 'AstralogTransport');
    // A transport's log() can run after the log call: when a sibling transport (File, Http) holds
    // the logger back, winston buffers and delivers later, outside the caller's context. The logger
    // that pipes to us records the context at the call, on the info itself.
    this.on('pipe', recordContextAtWrite);
  }

  /** Formats and log() run in the context of the log call (see recordContextAtWrite). */
  override _write(info: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const at = contextOf(info);
    if (at === undefined) {
      super._write(info, encoding, callback);
      return;
    }
    otelContextApi().with(at, () => super._write(info, encoding, callback));
  }

  override log(info: unknown, callback: () => void): void {
    try {
      if (this.client !== undefined && info !== null && typeof info === 'object') send(this.client, info as Record<PropertyKey, unknown>);
    } catch {
      // a log line never breaks the application
    }
    try {
      this.emit('logged', info);
    } catch {
      // a throwing 'logged' listener is not ours to surface
    }
    if (typeof callback === 'function') callback();
  }

  /** Called by winston when the logger lets go of the transport (logger.close()): sends what is queued; the client stays open. */
  override close(): void {
    if (this.client !== undefined) void this.client.flush().catch(() => undefined);
  }
}

function send(client: Astralog, info: Record<PropertyKey, unknown>): void {
  const logged = info[LEVEL] ?? info.level;
  const name = typeof logged === 'string' ? logged : 'info';
  const level = LEVELS.get(name) ?? name;
  const metadata: Record<string, unknown> = {};
  for (const key of Object.keys(info)) {
    if (key !== 'level' && key !== 'message') metadata[key] = info[key];
  }
  // logger.error(err): the info is the Error itself, whose stack is not enumerable.
  if (info instanceof Error && !('stack' in metadata) && typeof info.stack === 'string') metadata.stack = info.stack;
  const message = info.message === undefined ? '' : info.message;
  const at = contextOf(info);
  if (at === undefined) client.event(level, message, metadata);
  else otelContextApi().with(at, () => client.event(level, message, metadata));
}

/**
 * The active context. Until a context manager holds one (none registered, or register's not yet
 * used) it is the root context, read without loading the OpenTelemetry API.
 */
function activeContext(): Context {
  return activeContextReadable() ? otelContextApi().active() : otelRootContext();
}

/** The context recorded on the info at the log call, when it differs from the active one. */
function contextOf(info: unknown): Context | undefined {
  try {
    if (info === null || typeof info !== 'object') return undefined;
    const at = (info as Record<PropertyKey, unknown>)[CALL_CONTEXT];
    if (at === null || typeof at !== 'object' || typeof (at as Context).getValue !== 'function') return undefined;
    return at === activeContext() ? undefined : (at as Context);
  } catch {
    return undefined;
  }
}

/** Wraps this logger's write() (the one entry of log(), child loggers included) to record the active context. */
function recordContextAtWrite(logger: unknown): void {
  try {
    if (logger === null || typeof logger !== 'object') return;
    const target = logger as Record<PropertyKey, unknown> & { write?: unknown };
    if (target[RECORDS_CONTEXT] === true) return;
    const original = target.write;
    if (typeof original !== 'function') return;
    const write = function (this: unknown, chunk: unknown, ...rest: unknown[]): unknown {
      if (chunk !== null && typeof chunk === 'object') {
        try {
          // Not enumerable: formats that print the whole info (prettyPrint, inspect) do not show it.
          Object.defineProperty(chunk, CALL_CONTEXT, { value: activeContext(), writable: true, configurable: true, enumerable: false });
        } catch {
          // a frozen info: log() then uses the context it runs in
        }
      }
      return (original as (...args: unknown[]) => unknown).call(this, chunk, ...rest);
    };
    target.write = write;
    target[RECORDS_CONTEXT] = true;
  } catch {
    // a logger we cannot wrap still logs, correlated whenever its transports are not held back
  }
}
