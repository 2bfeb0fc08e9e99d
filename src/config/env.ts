import { LEVELS, type LevelName } from '../client/levels.ts';
import type { AstralogOptions } from './client-config.ts';
import { AstralogConfigError } from './errors.ts';
import { PROCESSOR_LIMIT_KEYS } from './processor-config.ts';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from './validate.ts';
import { FALSE_WORDS, readBoolean, readSwitches, text, type Env } from '../register/switches.ts';

/** What register does beyond the client: read from the environment only. */
export interface RegisterSettings {
  captureConsole: boolean;
  /** Silence the one-line startup message (errors are still said). */
  quiet: boolean;
  shutdownTimeoutMs: number;
  /** OTel diag level from OTEL_LOG_LEVEL, when set. */
  otelLogLevel: OtelLogLevel | undefined;
  /** Extra resource attributes from OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes: Record<string, string>;
}

export type OtelLogLevel = 'NONE' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'VERBOSE' | 'ALL';

export type EnvConfig =
  | { state: 'disabled'; reason: string }
  | { state: 'off'; reason: string }
  | { state: 'invalid'; errors: string[] }
  | { state: 'on'; options: AstralogOptions; settings: RegisterSettings };

/** Option name -> the variable it is read from, so option errors can name the variable. */
export const ENV_FOR_OPTION: Readonly<Record<string, string>> = {
  apiKey: 'ASTRALOG_API_KEY',
  endpoint: 'ASTRALOG_ENDPOINT',
  projectId: 'ASTRALOG_PROJECT_ID',
  service: 'ASTRALOG_SERVICE',
  level: 'ASTRALOG_LEVEL',
  compression: 'ASTRALOG_COMPRESSION',
  allowInsecureHttp: 'ASTRALOG_ALLOW_INSECURE_HTTP',
  maxQueueSize: 'ASTRALOG_MAX_QUEUE_SIZE',
  maxQueueBytes: 'ASTRALOG_MAX_QUEUE_BYTES',
  maxBatchSize: 'ASTRALOG_MAX_BATCH_SIZE',
  flushIntervalMs: 'ASTRALOG_FLUSH_INTERVAL_MS',
  exportTimeoutMs: 'ASTRALOG_EXPORT_TIMEOUT_MS',
  maxConcurrentExports: 'ASTRALOG_MAX_CONCURRENT_EXPORTS',
  shutdownTimeoutMs: 'ASTRALOG_SHUTDOWN_TIMEOUT_MS',
  proxy: 'ASTRALOG_PROXY',
};

const OTEL_LOG_LEVELS: readonly OtelLogLevel[] = ['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'VERBOSE', 'ALL'];

/**
 * Reads register's configuration from the environment (DESIGN.md's table, plus the standard
 * OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and OTEL_LOG_LEVEL). Never throws:
 * a bad value comes back as an error naming the variable and what it accepts.
 */
export function readEnvConfig(env: Env = process.env): EnvConfig {
  const errors: string[] = [];
  // OTEL_SDK_DISABLED and ASTRALOG_API_KEY: the same reading register's early exit makes.
  const switches = readSwitches(env, errors);
  if (switches.state !== 'on') return switches;

  const options: Record<string, unknown> = {};
  options.apiKey = switches.apiKey;
  if (switches.endpoint !== undefined) options.endpoint = switches.endpoint;
  const projectId = text(env, 'ASTRALOG_PROJECT_ID');
  if (projectId !== undefined) options.projectId = projectId;
  const service = text(env, 'ASTRALOG_SERVICE') ?? text(env, 'OTEL_SERVICE_NAME');
  if (service !== undefined) options.service = service;

  const level = text(env, 'ASTRALOG_LEVEL');
  if (level !== undefined) {
    const lower = level.toLowerCase();
    if (Object.hasOwn(LEVELS, lower)) options.level = lower as LevelName;
    else errors.push(`ASTRALOG_LEVEL: expected one of ${Object.keys(LEVELS).join(', ')}, got '${level}'`);
  }
  const compression = text(env, 'ASTRALOG_COMPRESSION');
  if (compression !== undefined) {
    if (compression === 'none' || compression === 'gzip') options.compression = compression;
    else errors.push(`ASTRALOG_COMPRESSION: expected 'none' or 'gzip', got '${compression}'`);
  }
  const insecure = readBoolean(env, 'ASTRALOG_ALLOW_INSECURE_HTTP', false, errors);
  if (insecure) options.allowInsecureHttp = true;
  // A proxy URL, or none/false/off/no/0 for a direct connection whatever HTTPS_PROXY says.
  const proxy = text(env, 'ASTRALOG_PROXY');
  if (proxy !== undefined) {
    const lower = proxy.toLowerCase();
    options.proxy = lower === 'none' || FALSE_WORDS.has(lower) ? false : proxy;
  }
  for (const option of PROCESSOR_LIMIT_KEYS) {
    const name = ENV_FOR_OPTION[option] as string;
    const value = text(env, name);
    if (value === undefined) continue;
    if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) options[option] = Number(value);
    else errors.push(`${name}: expected a whole number, got '${value}'`);
  }

  const settings: RegisterSettings = {
    captureConsole: readBoolean(env, 'ASTRALOG_CAPTURE_CONSOLE', true, errors),
    quiet: readBoolean(env, 'ASTRALOG_QUIET', false, errors),
    shutdownTimeoutMs: typeof options.shutdownTimeoutMs === 'number' ? options.shutdownTimeoutMs : DEFAULT_SHUTDOWN_TIMEOUT_MS,
    otelLogLevel: undefined,
    resourceAttributes: {},
  };
  const otelLogLevel = text(env, 'OTEL_LOG_LEVEL');
  if (otelLogLevel !== undefined) {
    const upper = otelLogLevel.toUpperCase() as OtelLogLevel;
    if (OTEL_LOG_LEVELS.includes(upper)) settings.otelLogLevel = upper;
    else errors.push(`OTEL_LOG_LEVEL: expected one of ${OTEL_LOG_LEVELS.join(', ')}, got '${otelLogLevel}'`);
  }
  const resourceAttributes = text(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (resourceAttributes !== undefined) {
    const parsed = parseResourceAttributes(resourceAttributes);
    if (typeof parsed === 'string') errors.push(`OTEL_RESOURCE_ATTRIBUTES: ${parsed}`);
    else settings.resourceAttributes = parsed;
  }
  if (errors.length > 0) return { state: 'invalid', errors };
  return { state: 'on', options: options as unknown as AstralogOptions, settings };
}

/** Names the variable behind an option error (createAstralog validates the values read here). */
export function describeEnvError(error: unknown): string {
  if (error instanceof AstralogConfigError) {
    const variable = ENV_FOR_OPTION[error.option] ?? error.option;
    return `${variable}: ${error.detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** `key1=value1,key2=value2`, values percent-encoded (the OTel specification's format). */
function parseResourceAttributes(value: string): Record<string, string> | string {
  const attributes: Record<string, string> = {};
  for (const pair of value.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) return `expected key=value pairs separated by commas, got '${pair.trim()}'`;
    const key = pair.slice(0, eq).trim();
    try {
      attributes[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return `the value of '${key}' is not valid percent-encoding`;
    }
  }
  return attributes;
}
