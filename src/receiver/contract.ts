import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';

// The Astralog ingest contract (shared/astralog-ingest-api.md), as a receiver checks it. Used by
// the local dev receiver (`astralog dev`) and by the test double built on top of it.

export const DRAIN_PATH = '/v1/drain';
export const ACCEPTED_BODY = JSON.stringify({ status: 'accepted' });

/** An answer the contract prescribes before a request's events can be accepted. */
export interface Refusal {
  status: number;
  error: string;
}

/** Authorization must be `Bearer <key>`; the body must be JSON. */
export function checkHeaders(headers: IncomingHttpHeaders, apiKey: string): Refusal | undefined {
  if (headers.authorization !== `Bearer ${apiKey}`) return { status: 401, error: 'unauthorized' };
  const type = headers['content-type'];
  if (typeof type !== 'string' || !type.trim().toLowerCase().startsWith('application/json')) {
    return { status: 400, error: 'content-type must be application/json' };
  }
  return undefined;
}

/** The body as text, gunzipped when Content-Encoding says gzip; or what is wrong with it. */
export function decodeBody(headers: IncomingHttpHeaders, raw: Buffer): { text: string } | { error: string } {
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return { text: raw.toString('utf8') };
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      return { text: gunzipSync(raw).toString('utf8') };
    } catch (error) {
      return { error: `body is not valid gzip (${(error as Error).message})` };
    }
  }
  return { error: `unsupported content-encoding: ${encoding}` };
}

const REQUIRED_FIELDS = ['timestamp', 'level', 'message', 'service'] as const;
const OPTIONAL_STRING_FIELDS = ['trace_id', 'project_id'] as const;

export interface AstralogEvent {
  timestamp: string;
  level: string;
  message: string;
  service: string;
  trace_id?: string;
  project_id?: string;
  metadata?: Record<string, unknown>;
}

/** Parses and checks a drain body: `{"events":[…]}` with the required string fields. */
export function parseEvents(text: string): { events: AstralogEvent[] } | { error: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: 'body is not valid JSON' };
  }
  if (!isPlainObject(body)) return { error: 'body must be a JSON object' };
  const events = body.events;
  if (!Array.isArray(events)) {
    return { error: Array.isArray(body.logs) ? 'body must hold an "events" array (found "logs", the legacy name)' : 'body must hold an "events" array' };
  }
  for (let i = 0; i < events.length; i++) {
    const event: unknown = events[i];
    if (!isPlainObject(event)) return { error: `events[${i}] must be an object` };
    for (const field of REQUIRED_FIELDS) {
      if (!(field in event)) return { error: `events[${i}].${field} is missing` };
      if (typeof event[field] !== 'string') return { error: `events[${i}].${field} must be a string` };
    }
    for (const field of OPTIONAL_STRING_FIELDS) {
      if (field in event && typeof event[field] !== 'string') return { error: `events[${i}].${field} must be a string when present` };
    }
    if ('metadata' in event && !isPlainObject(event.metadata)) return { error: `events[${i}].metadata must be an object when present` };
  }
  return { events: events as AstralogEvent[] };
}

/** A drain request in full: its events, or the refusal to answer with. */
export function checkDrain(headers: IncomingHttpHeaders, raw: Buffer, apiKey: string): { events: AstralogEvent[] } | Refusal {
  return checkHeaders(headers, apiKey) ?? checkDrainBody(headers, raw);
}

/** The body part of checkDrain, for a receiver that checked the headers before reading the body. */
export function checkDrainBody(headers: IncomingHttpHeaders, raw: Buffer): { events: AstralogEvent[] } | Refusal {
  const decoded = decodeBody(headers, raw);
  if ('error' in decoded) return { status: 400, error: decoded.error };
  const parsed = parseEvents(decoded.text);
  if ('error' in parsed) return { status: 400, error: parsed.error };
  return parsed;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
