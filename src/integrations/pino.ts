// @astralog/otel/pino: an in-process pino destination that sends each line through an Astralog client.
import type { Astralog } from '../client/client.ts';
import { clientFor } from './client-source.ts';

export interface AstralogStreamOptions {
  /** The client to send through (createAstralog()); default: register's. */
  client?: Astralog;
  /** The key of the message in pino's lines; default: the logger's `messageKey`, else `msg`. */
  messageKey?: string;
}

/** What pino needs of a destination, plus the metadata pino sets before each write. */
export interface AstralogPinoStream {
  /** Lets `pino(astralogStream())` take it as the destination, not as options. */
  readonly writable: true;
  /** One pino line (JSON); never throws. */
  write(line: string): boolean;
  /** Called by pino's `logger.flush(cb)`: sends what is queued, then calls back. */
  flush(callback?: (err?: Error) => void): void;
  /** Called by `pino.multistream().end()`: sends what is queued (the client stays open). */
  end(): void;
  /** Receives pino's configuration (its messageKey) when the logger is built. */
  emit(event: string | symbol, ...args: unknown[]): boolean;
  /** Set by pino before each write, since `[Symbol.for('pino.metadata')]` is true. */
  lastLevel: unknown;
  lastLogger: unknown;
  lastTime?: unknown;
  lastMsg?: unknown;
  lastObj?: unknown;
}

/** Asks pino to set lastLevel/lastLogger on the destination before each write. */
const PINO_METADATA = Symbol.for('pino.metadata');

/** A level number's name by the band it falls in: pino's defaults (10 trace … 60 fatal) and the numbers between. */
function bandOf(level: number): string {
  if (level < 20) return 'trace';
  if (level < 30) return 'debug';
  if (level < 40) return 'info';
  if (level < 50) return 'warn';
  if (level < 60) return 'error';
  return 'fatal';
}

/** `labels[n]` of a pino `levels` object ({ labels, values }), read defensively. */
function labelIn(levels: unknown, level: number): string | undefined {
  if (levels === null || typeof levels !== 'object') return undefined;
  const labels = (levels as { labels?: unknown }).labels;
  if (labels === null || typeof labels !== 'object') return undefined;
  const label: unknown = Object.hasOwn(labels, level) ? (labels as Record<number, unknown>)[level] : undefined;
  return typeof label === 'string' && label !== '' ? label : undefined;
}

/**
 * A pino destination: `pino(options, astralogStream())`, or one entry of `pino.multistream([...])`.
 * It runs in the logging call (not in a worker, as pino transports do), so the event carries the
 * active span's trace id without a mixin. Each line is parsed, so pino's redact, serializers,
 * bindings and formatters have applied. Throws AstralogConfigError when there is no client (none
 * given, register not loaded); does nothing when register is loaded but off (it said why).
 */
export function astralogStream(options: AstralogStreamOptions = {}): AstralogPinoStream {
  const client = clientFor(options.client, 'astralogStream()');
  const explicitKey = typeof options.messageKey === 'string' && options.messageKey !== '' ? options.messageKey : undefined;
  let configuredKey: string | undefined; // from pino's PINO_CONFIG message
  let configuredLevels: unknown;

  const stream: AstralogPinoStream = {
    writable: true,
    lastLevel: undefined,
    lastLogger: undefined,

    write(line: string): boolean {
      if (client === undefined) return true;
      try {
        const text = typeof line === 'string' ? line : String(line);
        let end = text.length;
        if (text.charCodeAt(end - 1) === 10) end--; // pino ends each line with \n (or \r\n)
        if (text.charCodeAt(end - 1) === 13) end--;
        const body = end === text.length ? text : text.slice(0, end);
        // One line per write from pino; a writer that batches lines gets each sent on its own.
        if (body.includes('\n')) {
          for (const part of body.split('\n')) sendLine(client, part.endsWith('\r') ? part.slice(0, -1) : part);
        } else {
          sendLine(client, body);
        }
      } catch {
        // a log line never breaks the application
      }
      return true;
    },

    flush(callback?: (err?: Error) => void): void {
      const done = (): void => {
        try {
          if (typeof callback === 'function') callback();
        } catch {
          // the caller's callback is its own business
        }
      };
      if (client === undefined) {
        done();
        return;
      }
      client.flush().then(done, done);
    },

    end(): void {
      if (client !== undefined) void client.flush().catch(() => undefined);
    },

    emit(event: string | symbol, ...args: unknown[]): boolean {
      // pino announces its configuration to destinations that can hear it (as to its transports).
      if (event !== 'message') return false;
      const message = args[0] as { code?: unknown; config?: { messageKey?: unknown; levels?: unknown } } | null | undefined;
      try {
        if (message?.code === 'PINO_CONFIG' && message.config !== undefined) {
          if (typeof message.config.messageKey === 'string') configuredKey = message.config.messageKey;
          configuredLevels = message.config.levels;
        }
      } catch {
        // a hostile payload: keep the defaults
      }
      return true;
    },
  };

  (stream as unknown as Record<symbol, unknown>)[PINO_METADATA] = true;

  function sendLine(client: Astralog, line: string): void {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      client.info(line); // not a pino JSON line: sent as its text
      return;
    }
    const fields = parsed as Record<string, unknown>;
    const messageKey = explicitKey ?? configuredKey ?? 'msg';
    const level = levelOf(fields.level);
    const message = fields[messageKey];
    // The parsed object is ours: strip pino's own fields and hand it over as the metadata (the
    // client copies it). `time` is dropped: the event takes the time of the call, which is now.
    delete fields.level;
    delete fields.time;
    delete fields[messageKey];
    client.event(level, message === undefined ? '' : message, fields);
  }

  /** The level's name: a string level (formatters.level) as is, a number by the logger's labels. */
  function levelOf(value: unknown): string {
    if (typeof value === 'string' && value !== '') return value;
    const last = stream.lastLevel;
    // The logger that wrote this line set lastLevel/lastLogger just before (pino.metadata); a
    // formatter that renamed or dropped the level field leaves lastLevel as the only record of it.
    const number = typeof value === 'number' ? value : typeof last === 'number' ? last : undefined;
    if (number === undefined) return 'info';
    if (number === last) {
      let levels: unknown;
      try {
        levels = (stream.lastLogger as { levels?: unknown } | null | undefined)?.levels;
      } catch {
        levels = undefined;
      }
      const label = labelIn(levels, number);
      if (label !== undefined) return label;
    }
    return labelIn(configuredLevels, number) ?? bandOf(number);
  }

  return stream;
}
