import { appPackage } from './app-package.ts';
import { AstralogConfigError } from './errors.ts';
import { resolveProxy, type ProxyOption, type ProxySetting } from './proxy.ts';
import {
  apiKeyOption,
  booleanOption,
  endpointOption,
  enumOption,
  exportTimeoutOption,
  headersOption,
  integerOption,
  rejectUnknownOptions,
  shutdownTimeoutOption,
  textOption,
} from './validate.ts';

export const DEFAULT_ENDPOINT = 'https://ingest.astralog.cloud';

/** How big one event may get, by default (see maxEventBytes, maxStringLength, maxDepth). */
export const DEFAULT_EVENT_LIMITS = Object.freeze({ maxEventBytes: 256 * 1024, maxStringLength: 32 * 1024, maxDepth: 10 });
export const DRAIN_PATH = '/v1/drain';

/**
 * Metadata keys redacted by default, matched without regard to case or punctuation and as a suffix,
 * so `password`, `db_password`, `X-Api-Key` and `githubToken` are all caught.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  'authorization',
  'cookie',
  'password',
  'passwd',
  'secret',
  'token',
  'api_key',
  'apikey',
  'private_key',
  'access_key',
  'secret_key',
  'passphrase',
  'credentials',
  'session_id',
]);

export interface AstralogExporterOptions {
  /** Astralog API key, sent as `Authorization: Bearer <key>`. Required. */
  apiKey: string;
  /** Base URL (gets `/v1/drain`) or full drain URL. Default `https://ingest.astralog.cloud`. */
  endpoint?: string;
  /** Sent as `project_id` on every event when set (required by self-hosted deployments). */
  projectId?: string;
  /** Service name used when the resource has no `service.name` of its own. */
  service?: string;
  /** Request body compression. Default `'none'` (the ingest API does not document gzip). */
  compression?: 'none' | 'gzip';
  /** Upper bound on one `export` call, retries and backoff included. Default 10000. */
  exportTimeoutMs?: number;
  /** Extra request headers. Authorization, Content-Type and framing headers are reserved. */
  headers?: Record<string, string>;
  /** Allow plaintext `http://` to a non-loopback host. Default false. */
  allowInsecureHttp?: boolean;
  /** Metadata keys to redact (replaces the default list; `[]` turns redaction off). */
  redactKeys?: readonly string[];
  /** Cap on one encoded event, in bytes; larger events are shortened, visibly. Default 262144. */
  maxEventBytes?: number;
  /** Cap on one string value (message included), in characters. Default 32768. */
  maxStringLength?: number;
  /** Cap on metadata nesting depth. Default 10. */
  maxDepth?: number;
  /** Cap on one request body, in bytes (before compression); larger batches are split. Default 4194304. */
  maxRequestBytes?: number;
  /** After a 401/403, how long to wait before trying the key again. Default 60000. */
  authRetryIntervalMs?: number;
  /** The most `shutdown()` waits for exports in flight before abandoning them. Default 2000. */
  shutdownTimeoutMs?: number;
  /** Extra CA certificate(s) in PEM, for a TLS endpoint with a private CA. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Fields added to every event's metadata (a record's own attributes win), e.g. `{ region: 'eu-1' }`. */
  metadata?: Readonly<Record<string, string | number | boolean>>;
  /**
   * An HTTP(S) proxy for every request (`http://user:pass@proxy:3128`), or false to ignore the
   * environment. Default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and their lowercase forms).
   */
  proxy?: ProxyOption;
}

export interface ExporterConfig {
  apiKey: string;
  url: URL;
  projectId: string | undefined;
  service: string | undefined;
  compression: 'none' | 'gzip';
  exportTimeoutMs: number;
  headers: Record<string, string>;
  redactKeys: readonly string[];
  maxEventBytes: number;
  maxStringLength: number;
  maxDepth: number;
  maxRequestBytes: number;
  authRetryIntervalMs: number;
  shutdownTimeoutMs: number;
  ca: string | Buffer | Array<string | Buffer> | undefined;
  metadata: Readonly<Record<string, string | number | boolean>>;
  proxy: ProxySetting | undefined;
}

export const EXPORTER_OPTION_KEYS: ReadonlySet<string> = new Set<string>([
  'apiKey',
  'endpoint',
  'projectId',
  'service',
  'compression',
  'exportTimeoutMs',
  'headers',
  'allowInsecureHttp',
  'redactKeys',
  'maxEventBytes',
  'maxStringLength',
  'maxDepth',
  'maxRequestBytes',
  'authRetryIntervalMs',
  'shutdownTimeoutMs',
  'ca',
  'metadata',
  'proxy',
]);

export function resolveExporterConfig(options: unknown): ExporterConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new AstralogConfigError('options', 'expected an options object with at least { apiKey }');
  }
  try {
    return resolveOptions(options);
  } catch (error) {
    // An option set to the key by mistake (an endpoint, say) must not print it.
    const key = (options as { apiKey?: unknown }).apiKey;
    if (!(error instanceof AstralogConfigError) || typeof key !== 'string' || key.length < 4 || !error.detail.includes(key)) throw error;
    throw new AstralogConfigError(error.option, error.detail.split(key).join('[REDACTED]'));
  }
}

function resolveOptions(options: object): ExporterConfig {
  rejectUnknownOptions('exporter', options, EXPORTER_OPTION_KEYS);
  const o = options as Partial<Record<keyof AstralogExporterOptions, unknown>>;
  const allowInsecureHttp = booleanOption('allowInsecureHttp', o.allowInsecureHttp, false);
  const maxEventBytes = integerOption('maxEventBytes', o.maxEventBytes, DEFAULT_EVENT_LIMITS.maxEventBytes, { min: 4096, max: 16 * 1024 * 1024 });
  const maxRequestBytes = integerOption('maxRequestBytes', o.maxRequestBytes, 4 * 1024 * 1024, {
    min: 16 * 1024,
    max: 256 * 1024 * 1024,
  });
  if (maxRequestBytes < maxEventBytes + 64) {
    throw new AstralogConfigError('maxRequestBytes', `must be larger than maxEventBytes (${maxEventBytes}) so one event fits a request`);
  }
  const url = endpointOption('endpoint', o.endpoint, DEFAULT_ENDPOINT, DRAIN_PATH, allowInsecureHttp);
  return {
    apiKey: apiKeyOption('apiKey', o.apiKey),
    url,
    projectId: textOption('projectId', o.projectId),
    // Records whose resource names no service (a provider of NodeSDK's without serviceName) get the app's package name.
    service: textOption('service', o.service) ?? appPackage().name,
    compression: enumOption('compression', o.compression, ['none', 'gzip'] as const, 'none'),
    exportTimeoutMs: exportTimeoutOption(o.exportTimeoutMs),
    headers: headersOption('headers', o.headers),
    redactKeys: redactKeysOption(o.redactKeys),
    maxEventBytes,
    maxStringLength: integerOption('maxStringLength', o.maxStringLength, DEFAULT_EVENT_LIMITS.maxStringLength, { min: 16, max: 16 * 1024 * 1024 }),
    maxDepth: integerOption('maxDepth', o.maxDepth, DEFAULT_EVENT_LIMITS.maxDepth, { min: 1, max: 100 }),
    maxRequestBytes,
    authRetryIntervalMs: integerOption('authRetryIntervalMs', o.authRetryIntervalMs, 60_000, { min: 10, max: 24 * 3_600_000 }),
    shutdownTimeoutMs: shutdownTimeoutOption(o.shutdownTimeoutMs),
    ca: caOption(o.ca),
    metadata: metadataOption(o.metadata),
    proxy: resolveProxy(o.proxy, url, process.env), // the proxy variables, when the option is absent
  };
}

function metadataOption(value: unknown): ExporterConfig['metadata'] {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AstralogConfigError('metadata', 'expected an object of field names to strings, numbers or booleans');
  }
  const entries = Object.entries(value);
  if (entries.length > 64) throw new AstralogConfigError('metadata', 'at most 64 fields');
  for (const [key, field] of entries) {
    const ok = typeof field === 'string' || typeof field === 'boolean' || (typeof field === 'number' && Number.isFinite(field));
    if (!ok) throw new AstralogConfigError('metadata', `field '${key}' must be a string, a finite number or a boolean`);
  }
  return Object.freeze({ ...(value as Record<string, string | number | boolean>) });
}

function redactKeysOption(value: unknown): readonly string[] {
  if (value === undefined) return DEFAULT_REDACT_KEYS;
  if (!Array.isArray(value) || value.some((k) => typeof k !== 'string' || k.trim() === '')) {
    throw new AstralogConfigError('redactKeys', 'expected an array of non-empty strings ([] turns redaction off)');
  }
  return Object.freeze([...(value as string[])]);
}

function caOption(value: unknown): ExporterConfig['ca'] {
  if (value === undefined) return undefined;
  const ok = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  if (ok(value)) return value as string | Buffer;
  if (Array.isArray(value) && value.length > 0 && value.every(ok)) return [...(value as Array<string | Buffer>)];
  throw new AstralogConfigError('ca', 'expected a PEM string, a Buffer, or an array of them');
}
