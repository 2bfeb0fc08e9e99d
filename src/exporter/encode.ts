import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { otelApi } from '../globals/otel-packages.ts';
import { DeferredResource } from '../resource.ts';
import { EncodedEvent } from './encoded-event.ts';
import { JsonBuffer, jsonStringBytes, memberKeyBytes } from './json-buffer.ts';
import { KeyRedactor, REDACTED } from './redact.ts';
import { MemberKeys, SafeJsonWriter, describeFailure, truncate, type ValueLimits } from './safe-json.ts';

export interface EncoderConfig {
  projectId: string | undefined;
  /** Used when the resource has no real `service.name` (OTel's default is `unknown_service:…`). */
  service: string | undefined;
  redactKeys: readonly string[];
  maxEventBytes: number;
  maxStringLength: number;
  maxDepth: number;
  /** Fields added to every event's metadata unless the record has its own. */
  metadata?: Readonly<Record<string, string | number | boolean>>;
}

const MAX_ITEMS = 1000;
const MAX_LEVEL_LENGTH = 32;
const MAX_ID_LENGTH = 128;
/** Level, service and trace id lengths in the last-resort encoding (fits maxEventBytes >= 4096). */
const SHORT_FIELD_LENGTH = 16;
/** Metadata key that says an event was shortened to fit `maxEventBytes`. */
export const TRUNCATED_KEY = 'astralog.truncated';

// severityNumber 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal.
const LEVEL_BY_SEVERITY = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map(jsonStringBytes);
const INFO = LEVEL_BY_SEVERITY[2] as Buffer;
const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

interface Identity {
  traceId: string | undefined;
  /** Whether trace_id came from the attributes (then it is left out of metadata). */
  promoted: boolean;
  spanContext: SpanContext | undefined;
}

/**
 * Turns OTel log records into Astralog events (DESIGN.md's mapping), written as UTF-8 JSON
 * straight into a JsonBuffer. Runs at export time, per batch, never on the emitting caller's path.
 * Never throws; each event is valid JSON of at most `maxEventBytes` bytes. Not re-entrant.
 */
export class EventEncoder {
  private readonly config: EncoderConfig;
  private readonly writer: SafeJsonWriter;
  /** For structured message bodies, whose JSON text is then written as a string. */
  private readonly scratch = new JsonBuffer(1024);
  private readonly scratchWriter: SafeJsonWriter;
  /** For encodeEvent's string results. */
  private readonly single = new JsonBuffer(1024);
  private readonly normalLimits: ValueLimits;
  private readonly compactLimits: ValueLimits;
  private readonly projectIdField: Buffer;
  /** The service of records without a resource (and of unreadable ones). */
  private readonly defaultService: Buffer;
  private readonly serviceByResource = new WeakMap<object, Buffer>();
  private readonly levelByText = new Map<string, Buffer>();
  /** The last lookups of serviceOf and levelOf: consecutive records mostly share both. */
  private lastResource: object | undefined;
  private lastService: Buffer = Buffer.alloc(0);
  private lastLevelText = '';
  private lastLevel: Buffer = INFO;
  private readonly identity: Identity = { traceId: undefined, promoted: false, spanContext: undefined };
  private readonly staticMetadata: ReadonlyArray<{ key: string; json: Buffer }>;
  private cachedSecond = Number.NaN;
  private cachedOpening = '';

  constructor(config: EncoderConfig) {
    this.config = config;
    this.normalLimits = {
      maxStringLength: config.maxStringLength,
      maxDepth: config.maxDepth,
      maxItems: MAX_ITEMS,
      budgetBytes: config.maxEventBytes,
    };
    // Second try for an event over the cap: much shorter values, so one huge value costs
    // only itself and the rest of the event survives.
    this.compactLimits = {
      maxStringLength: Math.min(config.maxStringLength, Math.max(64, Math.floor(config.maxEventBytes / 64))),
      maxDepth: Math.min(config.maxDepth, 5),
      maxItems: 50,
      budgetBytes: config.maxEventBytes,
    };
    const redactor = new KeyRedactor(config.redactKeys);
    const keys = new MemberKeys(redactor);
    this.writer = new SafeJsonWriter(this.single, this.normalLimits, keys);
    this.scratchWriter = new SafeJsonWriter(this.scratch, this.normalLimits, keys);
    this.defaultService = jsonStringBytes(config.service ?? 'unknown_service');
    this.projectIdField = Buffer.from(config.projectId === undefined ? '' : ',"project_id":' + JSON.stringify(config.projectId), 'utf8');
    // Encoded once: `"key":value` per static field, written after the record's own attributes.
    // Redacted like a call's own metadata.
    this.staticMetadata = Object.entries(config.metadata ?? {}).map(([key, value]) => ({
      key,
      json: Buffer.concat([memberKeyBytes(key), Buffer.from(JSON.stringify(redactor.isSensitive(key) ? REDACTED : value))]),
    }));
  }

  /** One event as a JSON string (the exporter writes batches with encodeInto instead). */
  encodeEvent(record: ReadableLogRecord): string {
    this.single.pos = 0;
    this.encodeInto(this.single, record);
    return this.single.toString(0, this.single.pos);
  }

  /** Appends one event at `buf.pos`. */
  encodeInto(buf: JsonBuffer, record: ReadableLogRecord): void {
    if (EncodedEvent.is(record)) return buf.raw(record.bytes); // encoded by an earlier export
    const start = buf.pos;
    const max = this.config.maxEventBytes;
    try {
      this.writeEvent(buf, record, this.normalLimits, undefined);
      if (!this.writer.overflow && buf.pos - start <= max) return;
      buf.pos = start;
      this.writeEvent(buf, record, this.compactLimits, `event exceeded maxEventBytes (${max}); values shortened`);
      if (!this.writer.overflow && buf.pos - start <= max) return;
      buf.pos = start;
      this.writeMinimal(buf, record, `event exceeded maxEventBytes (${max}); metadata dropped`);
    } catch (error) {
      // Unreachable by design (the writer contains every failure); kept so one record can never fail a batch.
      buf.pos = start;
      try {
        this.writeMinimal(buf, record, `record could not be encoded: ${describeFailure(error)}`);
      } catch {
        buf.pos = start;
        this.writeUnreadable(buf);
      }
    }
  }

  private writeEvent(buf: JsonBuffer, record: ReadableLogRecord, limits: ValueLimits, truncatedNote: string | undefined): void {
    const w = this.writer;
    w.reset(buf, limits);
    const attributes = (record.attributes ?? EMPTY) as Record<string, unknown>;
    const id = identityOf(record, attributes, this.identity);

    this.writeHead(buf, record, undefined);
    this.writeMessage(record);
    buf.ascii(',"service":');
    buf.raw(this.serviceOf(record));
    if (id.traceId !== undefined) {
      buf.ascii(',"trace_id":');
      buf.string(truncate(id.traceId, MAX_ID_LENGTH));
    }
    buf.raw(this.projectIdField);
    buf.ascii(',"metadata":{');
    let written = w.writeMembers(attributes, 1, id.promoted ? 'trace_id' : undefined, true);
    if (id.spanContext !== undefined) {
      // A remote span context (an incoming traceparent, no local span) names the caller's span.
      const key = id.spanContext.isRemote === true ? 'parent_span_id' : 'span_id';
      if (!(key in attributes) && w.writeMember(key, id.spanContext.spanId, 1, written === 0)) written++;
    }
    if (typeof record.eventName === 'string' && record.eventName !== '' && !('event.name' in attributes)) {
      if (w.writeMember('event.name', record.eventName, 1, written === 0)) written++;
    }
    if (record.droppedAttributesCount > 0) {
      if (w.writeMember('otel.dropped_attributes_count', record.droppedAttributesCount, 1, written === 0)) written++;
    }
    for (const field of this.staticMetadata) {
      if (field.key in attributes) continue;
      if (written++ > 0) buf.byte(0x2c);
      buf.raw(field.json);
    }
    if (truncatedNote !== undefined) w.writeMember(TRUNCATED_KEY, truncatedNote, 1, written === 0);
    buf.ascii('}}');
  }

  /**
   * Last resort: keep the identity of the event and as much of the message as fits. If even an
   * empty message does not fit (fields full of characters that escape to 6 bytes), the level,
   * service and trace id are shortened too, to lengths that fit the smallest allowed cap.
   */
  private writeMinimal(buf: JsonBuffer, record: ReadableLogRecord, note: string): void {
    const start = buf.pos;
    let id: Identity;
    try {
      id = identityOf(record, (record.attributes ?? EMPTY) as Record<string, unknown>, this.identity);
    } catch {
      id = { traceId: undefined, promoted: false, spanContext: undefined };
    }
    const write = (messageChars: number, tight: boolean): boolean => {
      buf.pos = start;
      this.writer.reset(buf, { ...this.compactLimits, maxStringLength: Math.max(1, messageChars) });
      this.writeHead(buf, record, tight ? SHORT_FIELD_LENGTH : undefined);
      if (messageChars > 0) this.writeMessage(record);
      else buf.ascii('""');
      buf.ascii(',"service":');
      if (tight) buf.string(truncate(JSON.parse(this.serviceOf(record).toString('utf8')) as string, SHORT_FIELD_LENGTH));
      else buf.raw(this.serviceOf(record));
      if (id.traceId !== undefined) {
        buf.ascii(',"trace_id":');
        buf.string(truncate(id.traceId, tight ? SHORT_FIELD_LENGTH : MAX_ID_LENGTH));
      }
      buf.raw(this.projectIdField);
      buf.ascii(',"metadata":{');
      buf.string(TRUNCATED_KEY);
      buf.byte(0x3a);
      buf.string(note);
      buf.ascii('}}');
      return buf.pos - start <= this.config.maxEventBytes;
    };
    // Escapes can take 6 bytes per character: start from a length that surely fits, then halve.
    let chars = Math.max(0, Math.floor(this.config.maxEventBytes / 6) - 256);
    let fits = write(chars, false);
    while (!fits && chars > 0) {
      chars = Math.floor(chars / 2);
      fits = write(chars, false);
    }
    if (!fits) write(0, true);
  }

  /** A record that cannot even be read (null, a throwing proxy): still a valid, visible event. */
  private writeUnreadable(buf: JsonBuffer): void {
    const [seconds, nanos] = nowHrTime();
    this.writeOpening(buf, seconds, nanos);
    buf.ascii('"error","message":"[astralog: a log record could not be encoded]","service":');
    buf.raw(this.defaultService);
    buf.raw(this.projectIdField);
    buf.ascii(',"metadata":{}}');
  }

  private writeHead(buf: JsonBuffer, record: ReadableLogRecord, maxLevelLength: number | undefined): void {
    // The SDK's own records carry epoch milliseconds: read them without building an HrTime.
    const timeMs = (record as { timeMs?: unknown }).timeMs;
    if (typeof timeMs === 'number' && timeMs >= 0 && timeMs < 253_402_300_800_000) {
      const seconds = Math.floor(timeMs / 1000);
      this.writeOpening(buf, seconds, Math.round((timeMs - seconds * 1000) * 1e6));
    } else {
      const [seconds, nanos] = validHrTime(record.hrTime) ?? validHrTime(record.hrTimeObserved) ?? nowHrTime();
      this.writeOpening(buf, seconds, nanos);
    }
    const level = this.levelOf(record);
    if (maxLevelLength === undefined) buf.raw(level);
    else buf.string(truncate(JSON.parse(level.toString('utf8')) as string, maxLevelLength));
    buf.ascii(',"message":');
  }

  /** The message, cut to the writer's maxStringLength (reset for this event). */
  private writeMessage(record: ReadableLogRecord): void {
    const w = this.writer;
    const body = record.body;
    if (typeof body === 'string') {
      w.writeString(body);
    } else if (body === undefined || body === null) {
      w.writeString(typeof record.eventName === 'string' ? record.eventName : '');
    } else if (typeof body === 'object') {
      // A structured body becomes its JSON text, written through the safe writer, then quoted.
      this.scratch.pos = 0;
      this.scratchWriter.reset(this.scratch, this.writer.limits);
      this.scratchWriter.writeValue(body, 1);
      if (this.scratchWriter.overflow) w.overflow = true;
      w.writeString(this.scratch.toString(0, this.scratch.pos));
    } else {
      // Functions and symbols: String() runs user code (toString, Symbol.toPrimitive) that may throw.
      let text: string;
      try {
        text = String(body);
      } catch (error) {
        text = describeFailure(error);
      }
      w.writeString(text);
    }
  }

  /**
   * Opens an event up to its level: `{"timestamp":"2026-11-28T09:42:58.123000000Z","level":`.
   * Events of the same second share the text before the nanoseconds, built once.
   */
  private writeOpening(buf: JsonBuffer, seconds: number, nanos: number): void {
    if (nanos >= 1e9) {
      seconds += 1;
      nanos -= 1e9;
    }
    if (seconds !== this.cachedSecond) {
      this.cachedSecond = seconds;
      this.cachedOpening = '{"timestamp":"' + new Date(seconds * 1000).toISOString().slice(0, 19) + '.';
    }
    buf.ascii(this.cachedOpening);
    buf.nineDigits(nanos);
    buf.ascii('Z","level":');
  }

  private levelOf(record: ReadableLogRecord): Buffer {
    const text = record.severityText;
    if (typeof text === 'string' && text !== '') {
      if (text === this.lastLevelText) return this.lastLevel;
      let level = this.levelByText.get(text);
      if (level === undefined) {
        level = jsonStringBytes(truncate(text.toLowerCase(), MAX_LEVEL_LENGTH));
        if (this.levelByText.size < 256) this.levelByText.set(text, level);
      }
      this.lastLevelText = text;
      this.lastLevel = level;
      return level;
    }
    const n = record.severityNumber;
    if (typeof n === 'number' && n >= 1 && n <= 24) return LEVEL_BY_SEVERITY[Math.floor((n - 1) / 4)] as Buffer;
    return INFO;
  }

  private serviceOf(record: ReadableLogRecord): Buffer {
    const resource = record.resource;
    if (resource === null || typeof resource !== 'object') return this.defaultService;
    if (resource === this.lastResource) return this.lastService;
    let service = this.serviceByResource.get(resource);
    if (service === undefined) {
      let fromResource: unknown;
      try {
        // Ours knows its service name without building the whole resource.
        fromResource = resource instanceof DeferredResource ? resource.serviceName : resource.attributes['service.name'];
      } catch {
        fromResource = undefined;
      }
      const named = typeof fromResource === 'string' && fromResource !== '' ? fromResource : undefined;
      const real = named !== undefined && !named.startsWith('unknown_service') ? named : undefined;
      service = jsonStringBytes(truncate(real ?? this.config.service ?? named ?? 'unknown_service', 256));
      this.serviceByResource.set(resource, service);
    }
    this.lastResource = resource;
    this.lastService = service;
    return service;
  }
}

/** Fills `into` (reused: this runs once per event) with the event's trace identity. */
function identityOf(record: ReadableLogRecord, attributes: Record<string, unknown>, into: Identity): Identity {
  const explicit = promotableTraceId(attributes.trace_id);
  // Only records of traced code have a span context: the API is loaded for them, not at start-up.
  const spanContext = record.spanContext !== undefined && otelApi().isSpanContextValid(record.spanContext) ? record.spanContext : undefined;
  into.traceId = explicit ?? spanContext?.traceId;
  into.promoted = explicit !== undefined;
  into.spanContext = spanContext;
  return into;
}

function promotableTraceId(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function validHrTime(time: HrTime | undefined): HrTime | undefined {
  if (!Array.isArray(time)) return undefined;
  const [seconds, nanos] = time;
  // RFC 3339 needs a four-digit year: 1970 to 9999.
  if (!Number.isInteger(seconds) || seconds < 0 || seconds >= 253_402_300_800) return undefined;
  if (!Number.isFinite(nanos) || nanos < 0 || nanos >= 1e9) return undefined;
  return Number.isInteger(nanos) ? time : [seconds, Math.floor(nanos)];
}

function nowHrTime(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}
