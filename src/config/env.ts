import { LEVELS, type LevelName } from '../ground/levels.ts';
import type { AstralogOptions } from './client-config.ts';
import { AstralogConfigError } from './errors.ts';
import { PROCESSOR_LIMIT_KEYS } from './processor-config.ts';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from './validate.ts';
import { FALSE_WORDS, readBoolean, readSwitches, text, type Env } from '../ground/switches.ts';

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

/** The client options the environment gives (register's variables), and what was wrong, by option. */
export interface EnvOptions {
  options: Partial<AstralogOptions>;
  /** Option name -> a message naming its variable and what it accepts. */
  errors: Map<string, string>;
}

/**
 * Reads every client option from its variable (ENV_FOR_OPTION; the service from ASTRALOG_SERVICE,
 * then OTEL_SERVICE_NAME). Never throws. Register and createAstralog both read options this way.
 */
export function readEnvOptions(env: Env): EnvOptions {
  const options: Record<string, unknown> = {};
  const errors = new Map<string, string>();
  const fail = (option: string) => (message: string) => void errors.set(option, message);
  for (const option of ['apiKey', 'endpoint', 'projectId'] as const) {
    const value = text(env, ENV_FOR_OPTION[option] as string);
    if (value !== undefined) options[option] = value;
  }
  const service = text(env, 'ASTRALOG_SERVICE') ?? text(env, 'OTEL_SERVICE_NAME');
  if (service !== undefined) options.service = service;

  const level = text(env, 'ASTRALOG_LEVEL');
  if (level !== undefined) {
    const lower = level.toLowerCase();
    if (Object.hasOwn(LEVELS, lower)) options.level = lower as LevelName;
    else fail('level')(`ASTRALOG_LEVEL: expected one of ${Object.keys(LEVELS).join(', ')}, got '${level}'`);
  }
  const compression = text(env, 'ASTRALOG_COMPRESSION');
  if (compression !== undefined) {
    if (compression === 'none' || compression === 'gzip') options.compression = compression;
    else fail('compression')(`ASTRALOG_COMPRESSION: expected 'none' or 'gzip', got '${compression}'`);
  }
  const insecure: string[] = [];
  if (readBoolean(env, 'ASTRALOG_ALLOW_INSECURE_HTTP', false, insecure)) options.allowInsecureHttp = true;
  if (insecure[0] !== undefined) fail('allowInsecureHttp')(insecure[0]);
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
    else fail(option)(`${name}: expected a whole number, got '${value}'`);
  }
  return { options: options as Partial<AstralogOptions>, errors };
}

/**
 * createAstralog's options: each option not given falls back to its variable (options win; a bad
 * variable behind an option that was given is ignored). Throws AstralogConfigError naming the
 * variable when one that is used holds a bad value. `fromEnv`: the options read from variables.
 */
export function withEnvOptions(given: unknown, env: Env): { options: AstralogOptions; fromEnv: ReadonlySet<string> } {
  if (given !== undefined && (given === null || typeof given !== 'object' || Array.isArray(given))) {
    throw new AstralogConfigError('options', 'expected an options object, e.g. { apiKey }, or none to read ASTRALOG_API_KEY and the other variables');
  }
  const explicit: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) explicit[key] = value;
  const { options, errors } = readEnvOptions(env);
  for (const [option, message] of errors) {
    if (!Object.hasOwn(explicit, option)) throw new AstralogConfigError(ENV_FOR_OPTION[option] ?? option, message.slice(message.indexOf(': ') + 2));
  }
  const fromEnv = new Set(Object.keys(options).filter((key) => !Object.hasOwn(explicit, key)));
  return { options: { ...options, ...explicit } as AstralogOptions, fromEnv };
}

/** An option error about a value read from the environment also names the variable it came from. */
export function naming(error: unknown, fromEnv: ReadonlySet<string>): unknown {
  if (!(error instanceof AstralogConfigError) || !fromEnv.has(error.option)) return error;
  const variable = error.option === 'service' ? 'ASTRALOG_SERVICE or OTEL_SERVICE_NAME' : ENV_FOR_OPTION[error.option];
  return variable === undefined ? error : new AstralogConfigError(error.option, `${error.detail} (read from ${variable})`);
}

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
  const read = readEnvOptions(env);
  errors.push(...read.errors.values());
  const options: Record<string, unknown> = read.options;

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
