import { AstralogConfigError } from './errors.ts';

// Validators shared by every part that takes options (and, later, environment variables).
// Each throws AstralogConfigError naming the option and what it accepts.

export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  { min, max }: { min: number; max: number },
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AstralogConfigError(name, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 2_000;

/** exportTimeoutMs, which the exporter (per export) and the processor (per batch) both take. */
export function exportTimeoutOption(value: unknown, name = 'exportTimeoutMs'): number {
  return integerOption(name, value, DEFAULT_EXPORT_TIMEOUT_MS, { min: 1, max: 600_000 });
}

/** shutdownTimeoutMs, which the exporter, the processor and register's exit budget all take. */
export function shutdownTimeoutOption(value: unknown): number {
  return integerOption('shutdownTimeoutMs', value, DEFAULT_SHUTDOWN_TIMEOUT_MS, { min: 0, max: 600_000 });
}

export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new AstralogConfigError(name, `expected true or false, got ${describe(value)}`);
  return value;
}

export function enumOption<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new AstralogConfigError(name, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** A free-text option that ends up in event bodies (service, project id): any printable text, bounded. */
export function textOption(name: string, value: unknown, maxLength = 256): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AstralogConfigError(name, `expected a non-empty string, got ${describe(value)}`);
  }
  if (value.length > maxLength) throw new AstralogConfigError(name, `must be at most ${maxLength} characters`);
  if (hasControlCharacter(value)) throw new AstralogConfigError(name, 'must not contain control characters');
  if (!value.isWellFormed()) throw new AstralogConfigError(name, 'must be well-formed text (it holds a lone surrogate)');
  return value;
}

/**
 * The API key goes into a header: refuse anything that could break out of it (header injection)
 * or that Node would reject later. The message never repeats the key.
 */
export function apiKeyOption(name: string, value: unknown): string {
  if (value === undefined || value === '') {
    throw new AstralogConfigError(name, 'an API key is required (the apiKey option or ASTRALOG_API_KEY)');
  }
  if (typeof value !== 'string') throw new AstralogConfigError(name, `expected a string, got ${describe(value)}`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) {
      const what = c < 0x20 || c === 0x7f ? 'a control character' : c === 0x20 ? 'a space' : 'a non-ASCII character';
      throw new AstralogConfigError(name, `contains ${what} at position ${i}; an API key is printable ASCII without spaces`);
    }
  }
  if (value.length > 4096) throw new AstralogConfigError(name, 'is longer than 4096 characters');
  return value;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Headers that the exporter owns: letting a user set them would break auth, framing or encoding.
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization', // from the proxy URL's credentials
  'expect', // the exporter never waits for a 100 Continue
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
]);

export function headersOption(name: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AstralogConfigError(name, `expected an object of header names to string values, got ${describe(value)}`);
  }
  const headers: Record<string, string> = {};
  for (const [key, headerValue] of Object.entries(value)) {
    if (!HEADER_NAME.test(key)) throw new AstralogConfigError(`${name}`, `'${printable(key)}' is not a valid header name`);
    const lower = key.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) {
      throw new AstralogConfigError(name, `'${key}' is the exporter's own (it sets it, or its HTTP client refuses it) and cannot be set`);
    }
    if (typeof headerValue !== 'string') {
      throw new AstralogConfigError(name, `header '${key}' must be a string, got ${describe(headerValue)}`);
    }
    if (hasControlCharacter(headerValue, true)) {
      throw new AstralogConfigError(name, `header '${key}' contains a control character (header injection refused)`);
    }
    if (/[^\0-\xff]/.test(headerValue)) {
      throw new AstralogConfigError(name, `header '${key}' contains a character outside Latin-1, which an HTTP header cannot carry`);
    }
    headers[lower] = headerValue;
  }
  return headers;
}

const LOOPBACK_HOSTS = new Set(['localhost', '::1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (LOOPBACK_HOSTS.has(host)) return true;
  // 127.0.0.0/8, also IPv4-mapped ([::ffff:127.0.0.1], which URL writes [::ffff:7f00:1])
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^\[?::ffff:(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|7f[0-9a-f]{2}:[0-9a-f]{1,4})\]?$/.test(host);
}

/**
 * Parses the endpoint. A base URL without a path gets `defaultPath`; a URL with a path is used as is.
 * Plaintext http is allowed only to loopback unless `allowInsecureHttp` is set, so a key is never
 * sent in clear over a network by mistake.
 */
export function endpointOption(name: string, value: unknown, fallback: string, defaultPath: string, allowInsecureHttp: boolean): URL {
  const raw = value === undefined ? fallback : value;
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new AstralogConfigError(name, `expected an http(s) URL, got ${describe(raw)}`);
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new AstralogConfigError(name, `'${printable(raw)}' is not a valid URL (expected e.g. https://ingest.astralog.cloud)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AstralogConfigError(name, `expected an http:// or https:// URL, got '${url.protocol}'`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new AstralogConfigError(name, 'must not contain credentials; pass the key as apiKey');
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    throw new AstralogConfigError(
      name,
      `plaintext http:// to '${url.hostname}' would send the API key unencrypted; use https://, or set allowInsecureHttp (ASTRALOG_ALLOW_INSECURE_HTTP=true) if you really mean it`,
    );
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = defaultPath;
  url.hash = '';
  return url;
}

/** Refuses misspelt options (`apikey` for `apiKey`) instead of silently ignoring them. */
export function rejectUnknownOptions(scope: string, options: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue;
    const lower = key.toLowerCase();
    const suggestion = [...known].find((k) => editDistance(k.toLowerCase(), lower) <= 2);
    throw new AstralogConfigError(
      key,
      `unknown ${scope} option${suggestion ? ` (did you mean '${suggestion}'?)` : ''}; known options: ${[...known].join(', ')}`,
    );
  }
}

/** Levenshtein distance, for "did you mean" suggestions on short option names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

export function hasControlCharacter(value: string, allowTab = false): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && !(allowTab && c === 0x09)) || c === 0x7f) return true;
  }
  return false;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${printable(value)}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${String(value)} (${typeof value})`;
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function printable(value: string): string {
  const short = value.length > 80 ? value.slice(0, 80) + '…' : value;
  return JSON.stringify(short).slice(1, -1);
}
