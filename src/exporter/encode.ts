import { isSpanContextValid } from '@opentelemetry/api';
import type { HrTime } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { KeyRedactor } from './redact.ts';
import { SafeJsonWriter, describeFailure, truncate, type ValueLimits } from './safe-json.ts';

export interface EncoderConfig {
  projectId: string | undefined;
  /** Used when the resource has no real `service.name` (OTel's default is `unknown_service:…`). */
  service: string | undefined;
  redactKeys: readonly string[];
  maxEventBytes: number;
  maxStringLength: number;
  maxDepth: number;
}

const MAX_ITEMS = 1000;
const MAX_LEVEL_LENGTH = 32;
const MAX_ID_LENGTH = 128;
/** Level, service and trace id lengths in the last-resort encoding (fits maxEventBytes >= 4096). */
const SHORT_FIELD_LENGTH = 16;
/** Metadata key that says an event was shortened to fit `maxEventBytes`. */
export const TRUNCATED_KEY = 'astralog.truncated';

// severityNumber 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal.
const LEVEL_BY_SEVERITY = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * Turns one OTel log record into one Astralog event, as a JSON string (DESIGN.md's mapping).
 * Runs at export time, per batch, never on the emitting caller's path. Never throws; the result
 * is valid JSON of at most `maxEventBytes` UTF-8 bytes. Not re-entrant: one per exporter.
 */
export class EventEncoder {
  private readonly config: EncoderConfig;
  private readonly writer: SafeJsonWriter;
  private readonly normalLimits: ValueLimits;
  private readonly compactLimits: ValueLimits;
  private readonly projectIdField: string;
  private readonly serviceByResource = new WeakMap<object, string>();
  private readonly levelByText = new Map<string, string>();
  private cachedSecond = Number.NaN;
  private cachedSecondText = '';

  constructor(config: EncoderConfig) {
    this.config = config;
    this.normalLimits = {
      maxStringLength: config.maxStringLength,
      maxDepth: config.maxDepth,
      maxItems: MAX_ITEMS,
      budgetChars: config.maxEventBytes,
    };
    // Second try for an event over the cap: much shorter values, so one huge value costs
    // only itself and the rest of the event survives.
    this.compactLimits = {
      maxStringLength: Math.min(config.maxStringLength, Math.max(64, Math.floor(config.maxEventBytes / 64))),
      maxDepth: Math.min(config.maxDepth, 5),
      maxItems: 50,
      budgetChars: config.maxEventBytes,
    };
    this.writer = new SafeJsonWriter(this.normalLimits, new KeyRedactor(config.redactKeys));
    this.projectIdField = config.projectId === undefined ? '' : ',"project_id":' + JSON.stringify(config.projectId);
  }

  encodeEvent(record: ReadableLogRecord): string {
    try {
      const full = this.encodeWith(record, this.normalLimits, undefined);
      if (!this.writer.overflow && this.fits(full)) return full;
      const note = `event exceeded maxEventBytes (${this.config.maxEventBytes}); values shortened`;
      const compact = this.encodeWith(record, this.compactLimits, note);
      if (!this.writer.overflow && this.fits(compact)) return compact;
      return this.encodeMinimal(record, `event exceeded maxEventBytes (${this.config.maxEventBytes}); metadata dropped`);
    } catch (error) {
      // Unreachable by design (the writer contains every failure); kept so one record can never fail a batch.
      try {
        return this.encodeMinimal(record, `record could not be encoded: ${describeFailure(error)}`);
      } catch {
        const now = nowHrTime();
        return `{"timestamp":"${new Date(now[0] * 1000).toISOString().slice(0, 19)}.000000000Z","level":"error","message":"[astralog: a log record could not be encoded]","service":${JSON.stringify(this.config.service ?? 'unknown_service')}${this.projectIdField},"metadata":{}}`;
      }
    }
  }

  private fits(json: string): boolean {
    // Every UTF-16 unit of JSON.stringify output is at most 3 UTF-8 bytes (lone surrogates are escaped).
    return json.length * 3 <= this.config.maxEventBytes || Buffer.byteLength(json) <= this.config.maxEventBytes;
  }

  private encodeWith(record: ReadableLogRecord, limits: ValueLimits, truncatedNote: string | undefined): string {
    const w = this.writer;
    w.reset(limits);
    const attributes = (record.attributes ?? {}) as Record<string, unknown>;
    const explicitTraceId = promotableTraceId(attributes.trace_id);
    const spanContext = record.spanContext !== undefined && isSpanContextValid(record.spanContext) ? record.spanContext : undefined;
    const traceId = explicitTraceId ?? spanContext?.traceId;

    w.out = this.head(record);
    this.writeMessage(record);
    w.out += ',"service":' + this.serviceOf(record);
    if (traceId !== undefined) w.out += ',"trace_id":' + JSON.stringify(truncate(traceId, MAX_ID_LENGTH));
    w.out += this.projectIdField + ',"metadata":{';

    let written = w.writeMembers(attributes, 1, explicitTraceId === undefined ? undefined : 'trace_id', true);
    if (spanContext !== undefined && !('span_id' in attributes)) {
      if (w.writeMember('span_id', spanContext.spanId, 1, written === 0)) written++;
    }
    if (typeof record.eventName === 'string' && record.eventName !== '' && !('event.name' in attributes)) {
      if (w.writeMember('event.name', record.eventName, 1, written === 0)) written++;
    }
    if (record.droppedAttributesCount > 0) {
      if (w.writeMember('otel.dropped_attributes_count', record.droppedAttributesCount, 1, written === 0)) written++;
    }
    if (truncatedNote !== undefined) w.writeMember(TRUNCATED_KEY, truncatedNote, 1, written === 0);
    w.out += '}}';
    return w.out;
  }

  /**
   * Last resort: keep the identity of the event and as much of the message as fits. If even an
   * empty message does not fit (fields full of characters that escape to 6 bytes), the level,
   * service and trace id are shortened too, to lengths that fit the smallest allowed cap.
   */
  private encodeMinimal(record: ReadableLogRecord, note: string): string {
    const w = this.writer;
    const attributes = (record.attributes ?? {}) as Record<string, unknown>;
    const explicitTraceId = promotableTraceIdSafe(attributes);
    const spanContext = record.spanContext !== undefined && isSpanContextValid(record.spanContext) ? record.spanContext : undefined;
    const traceId = explicitTraceId ?? spanContext?.traceId;
    const metadata = ',"metadata":' + JSON.stringify({ [TRUNCATED_KEY]: note }) + '}';
    const build = (messageChars: number, tight: boolean): string => {
      w.reset({ ...this.compactLimits, maxStringLength: Math.max(1, messageChars) });
      w.out = tight ? this.head(record, SHORT_FIELD_LENGTH) : this.head(record);
      if (messageChars > 0) this.writeMessage(record);
      else w.out += '""';
      const service = this.serviceOf(record);
      w.out += ',"service":' + (tight ? JSON.stringify(truncate(JSON.parse(service) as string, SHORT_FIELD_LENGTH)) : service);
      if (traceId !== undefined) w.out += ',"trace_id":' + JSON.stringify(truncate(traceId, tight ? SHORT_FIELD_LENGTH : MAX_ID_LENGTH));
      w.out += this.projectIdField + metadata;
      return w.out;
    };
    // Escapes can take 6 bytes per character: start from a length that surely fits, then halve.
    let chars = Math.max(0, Math.floor(this.config.maxEventBytes / 6) - 256);
    let json = build(chars, false);
    while (!this.fits(json) && chars > 0) {
      chars = Math.floor(chars / 2);
      json = build(chars, false);
    }
    return this.fits(json) ? json : build(0, true);
  }

  private head(record: ReadableLogRecord, maxLevelLength?: number): string {
    const level = maxLevelLength === undefined ? this.levelOf(record) : JSON.stringify(truncate(JSON.parse(this.levelOf(record)) as string, maxLevelLength));
    return '{"timestamp":"' + this.timestampOf(record) + '","level":' + level + ',"message":';
  }

  private writeMessage(record: ReadableLogRecord): void {
    const w = this.writer;
    const body = record.body;
    if (typeof body === 'string') {
      w.writeString(body);
    } else if (body === undefined || body === null) {
      w.writeString(typeof record.eventName === 'string' ? record.eventName : '');
    } else if (typeof body === 'object') {
      // A structured body becomes its JSON text; written through the safe writer, then quoted.
      const prefix = w.out;
      w.out = '';
      w.writeValue(body, 1);
      const json = w.out;
      w.out = prefix;
      w.writeString(json);
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

  private timestampOf(record: ReadableLogRecord): string {
    const time = validHrTime(record.hrTime) ?? validHrTime(record.hrTimeObserved) ?? nowHrTime();
    const [seconds, nanos] = time;
    if (seconds !== this.cachedSecond) {
      this.cachedSecond = seconds;
      this.cachedSecondText = new Date(seconds * 1000).toISOString().slice(0, 19);
    }
    return this.cachedSecondText + '.' + String(nanos).padStart(9, '0') + 'Z';
  }

  private levelOf(record: ReadableLogRecord): string {
    const text = record.severityText;
    if (typeof text === 'string' && text !== '') {
      let level = this.levelByText.get(text);
      if (level === undefined) {
        level = JSON.stringify(truncate(text.toLowerCase(), MAX_LEVEL_LENGTH));
        if (this.levelByText.size < 256) this.levelByText.set(text, level);
      }
      return level;
    }
    const n = record.severityNumber;
    if (typeof n === 'number' && n >= 1 && n <= 24) return '"' + LEVEL_BY_SEVERITY[Math.floor((n - 1) / 4)] + '"';
    return '"info"';
  }

  private serviceOf(record: ReadableLogRecord): string {
    const resource = record.resource;
    if (resource === null || typeof resource !== 'object') return JSON.stringify(this.config.service ?? 'unknown_service');
    let service = this.serviceByResource.get(resource);
    if (service === undefined) {
      let fromResource: unknown;
      try {
        fromResource = resource.attributes['service.name'];
      } catch {
        fromResource = undefined;
      }
      const named = typeof fromResource === 'string' && fromResource !== '' ? fromResource : undefined;
      const real = named !== undefined && !named.startsWith('unknown_service') ? named : undefined;
      service = JSON.stringify(truncate(real ?? this.config.service ?? named ?? 'unknown_service', 256));
      this.serviceByResource.set(resource, service);
    }
    return service;
  }
}

function promotableTraceId(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

function promotableTraceIdSafe(attributes: Record<string, unknown>): string | undefined {
  try {
    return promotableTraceId(attributes.trace_id);
  } catch {
    return undefined;
  }
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
