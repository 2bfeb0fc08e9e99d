import type { Logger, LoggerProvider, LogRecord } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import { otelRegistration } from '../ground/otel-registry.ts';

/** Where the older @opentelemetry/api-logs (0.2xx) keeps its global provider, apart from api 1.10's. */
const API_LOGS_GLOBAL = Symbol.for('io.opentelemetry.js.api.logs');
/** Marks our bridge, so every copy of this package (ESM, CommonJS) recognises it. */
const BRIDGE = Symbol.for('@astralog/otel.api-logs-bridge');

type ApiLogs = { logs: { setGlobalLoggerProvider(provider: unknown): unknown; getLoggerProvider(): unknown } };

/** The compatibility version api-logs 0.2xx asks its global getter for. */
const API_LOGS_VERSION = 1;

/**
 * What became of the older Logs API: bridged (its records go to whatever provider is registered on
 * @opentelemetry/api, now or later), or taken by another provider registered on it directly.
 */
export type ApiLogsBridgeState = 'bridged' | 'taken';

let settled: ApiLogsBridgeState | undefined;

/**
 * Appenders built on @opentelemetry/api-logs (@opentelemetry/winston-transport, older
 * instrumentations) write to that package's global, which NodeSDK 0.301 and the Logs SDK 3.x never
 * set: their records are lost even when our processor sits in the provider NodeSDK registered. When
 * that global is empty, this registers there a provider that hands each record to the provider
 * registered on @opentelemetry/api (read when the record is written, so an SDK that starts later is
 * found). It does not load api-logs: a copy already loaded (whose loggers made before now wait on
 * its own registration) is registered through; otherwise the global is set as api-logs sets it.
 * Idempotent; never throws.
 */
export function bridgeApiLogs(): ApiLogsBridgeState {
  settled ??= install();
  return settled;
}

function install(): ApiLogsBridgeState {
  const global = globalThis as Record<symbol, unknown>;
  try {
    const existing = global[API_LOGS_GLOBAL];
    if (existing !== undefined) return typeof existing === 'function' && isBridge((existing as (version: number) => unknown)(API_LOGS_VERSION)) ? 'bridged' : 'taken';
    const loaded = loadedApiLogs();
    if (loaded !== undefined) {
      loaded.logs.setGlobalLoggerProvider(BRIDGE_PROVIDER);
      return isBridge(loaded.logs.getLoggerProvider()) ? 'bridged' : 'taken';
    }
    // As api-logs' own setGlobalLoggerProvider does: a getter answering its compatibility version.
    global[API_LOGS_GLOBAL] = (version: number): unknown => (version === API_LOGS_VERSION ? BRIDGE_PROVIDER : undefined);
    return 'bridged';
  } catch {
    return 'taken'; // an api-logs we do not understand: left alone
  }
}

/**
 * A copy of api-logs already loaded, from Node's module cache (api-logs has no ESM entry for Node:
 * import and require both load its CommonJS build, so both leave it there).
 */
function loadedApiLogs(): ApiLogs | undefined {
  const cache = createRequire(import.meta.url).cache;
  for (const file of Object.keys(cache)) {
    if (!INDEX.test(file)) continue;
    const exports = cache[file]?.exports as Partial<ApiLogs> | undefined;
    if (typeof exports?.logs?.setGlobalLoggerProvider === 'function') return exports as ApiLogs;
  }
  return undefined;
}

const INDEX = /[\\/]@opentelemetry[\\/]api-logs[\\/]build[\\/]src[\\/]index\.js$/;

function isBridge(provider: unknown): boolean {
  return typeof provider === 'object' && provider !== null && (provider as Record<symbol, unknown>)[BRIDGE] === true;
}

/** The provider registered on @opentelemetry/api by any of its copies, if any. */
function registeredProvider(): LoggerProvider | undefined {
  return otelRegistration('logs') as LoggerProvider | undefined;
}

/** Until a provider is registered, records are dropped, as the Logs API drops them without one. */
class BridgeLogger {
  private delegate: Logger | undefined;
  private readonly name: string;
  private readonly version: string | undefined;
  private readonly options: unknown;

  constructor(name: string, version: string | undefined, options: unknown) {
    this.name = name;
    this.version = version;
    this.options = options;
  }

  emit(record: LogRecord): void {
    this.resolve()?.emit(record);
  }

  enabled(options?: Parameters<NonNullable<Logger['enabled']>>[0]): boolean {
    const logger = this.resolve();
    if (logger === undefined) return false;
    return typeof logger.enabled === 'function' ? logger.enabled(options) : true;
  }

  private resolve(): Logger | undefined {
    if (this.delegate !== undefined) return this.delegate;
    const provider = registeredProvider();
    if (provider === undefined) return undefined;
    this.delegate = provider.getLogger(this.name, this.version, this.options as Parameters<LoggerProvider['getLogger']>[2]);
    return this.delegate;
  }
}

const BRIDGE_PROVIDER = Object.freeze({
  [BRIDGE]: true,
  getLogger(name: string, version?: string, options?: unknown): BridgeLogger {
    return new BridgeLogger(name, version, options);
  },
});
