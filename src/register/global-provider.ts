import { createRequire } from 'node:module';
import { join } from 'node:path';
import { logs } from '@opentelemetry/api';
import type { LoggerProvider } from '@opentelemetry/sdk-logs';
import { reportError, reportOnce } from '../diagnostics.ts';

/** Where the older @opentelemetry/api-logs (0.2xx) keeps its global, apart from api 1.10's. */
const API_LOGS_GLOBAL = Symbol.for('io.opentelemetry.js.api.logs');
const WATCHED = Symbol.for('@astralog/otel.watched-logs-api');

const FIX =
  'To send those logs to Astralog too, load @astralog/otel/register before the other SDK starts, or give that SDK ' +
  'our processor: new NodeSDK({ logRecordProcessors: [new AstralogBatchLogRecordProcessor({ exporter: new AstralogLogRecordExporter({ apiKey }) })] }). ' +
  'console output, crashes and the client API reach Astralog either way.';

/**
 * Makes our provider the global OTel logger provider, so every OTel log source (pino/winston
 * instrumentations, libraries) reaches Astralog; also on the older api-logs global when that package
 * is installed. Says so when another SDK got there first, or tries to register after us.
 */
export function registerGlobalLoggerProvider(provider: LoggerProvider): void {
  const registered = logs.setGlobalLoggerProvider(provider);
  if (!registered) {
    const existing = describeProvider(logs.getLoggerProvider());
    reportError(
      `another OpenTelemetry logger provider (${existing}) was registered before @astralog/otel/register, e.g. by NodeSDK: ` +
        `logs emitted through the OpenTelemetry Logs API go to it, not to Astralog. ${FIX}`,
    );
  }
  registerOnApiLogs(provider);
  for (const api of apiCopies()) watchLaterRegistrations(api, provider);
}

function registerOnApiLogs(provider: LoggerProvider): void {
  const apiLogs = requireFromApp<{ logs: { setGlobalLoggerProvider(p: unknown): unknown } }>('@opentelemetry/api-logs');
  if (apiLogs === undefined) return; // not installed: no appender can be waiting on it
  try {
    const taken = (globalThis as Record<symbol, unknown>)[API_LOGS_GLOBAL] !== undefined;
    if (taken || apiLogs.logs.setGlobalLoggerProvider(provider) !== provider) {
      reportError(`another logger provider was registered on the @opentelemetry/api-logs global first: appenders built on that package do not reach Astralog. ${FIX}`);
    }
  } catch {
    // an incompatible api-logs: nothing to do
  }
}

type LogsApi = { setGlobalLoggerProvider(provider: unknown): boolean; [WATCHED]?: true };

/**
 * NodeSDK registers its logger provider when it starts, often after us. Its registration then
 * fails with only a diag message few people see; tell the user instead. Both module copies of
 * @opentelemetry/api (ESM and CommonJS) are watched: they keep separate API objects.
 */
function watchLaterRegistrations(api: LogsApi, ours: LoggerProvider): void {
  if (api[WATCHED]) return;
  const original = api.setGlobalLoggerProvider;
  api.setGlobalLoggerProvider = function (this: unknown, provider: unknown): boolean {
    const registered = original.call(this, provider);
    if (!registered && provider !== ours) {
      reportOnce(
        'late-logger-provider',
        `another SDK (e.g. NodeSDK) tried to register its own logger provider after @astralog/otel/register: ours stays global, so ` +
          `OpenTelemetry logs reach Astralog, and that SDK's log exporters receive none. To keep an OTLP collector too, set ` +
          `OTEL_LOGS_EXPORTER=otlp with OTEL_EXPORTER_OTLP_ENDPOINT (register then ships to both); to silence this, set OTEL_LOGS_EXPORTER=none for that SDK.`,
      );
    }
    return registered;
  };
  api[WATCHED] = true;
}

function apiCopies(): LogsApi[] {
  const copies: LogsApi[] = [logs as unknown as LogsApi];
  const commonjs = requireFromApp<{ logs: LogsApi }>('@opentelemetry/api');
  if (commonjs !== undefined && commonjs.logs !== (logs as unknown)) copies.push(commonjs.logs);
  return copies;
}

/** Loads a package as the application would (from its main script's folder or the working directory), or undefined. */
export function requireFromApp<T>(name: string): T | undefined {
  const bases = [process.argv[1], join(process.cwd(), 'noop.js')];
  for (const base of bases) {
    if (base === undefined || base === '') continue;
    try {
      return createRequire(base)(name) as T;
    } catch {
      // not resolvable from there
    }
  }
  return undefined;
}

function describeProvider(provider: unknown): string {
  try {
    const name = (provider as { constructor?: { name?: string } })?.constructor?.name;
    return name === undefined || name === '' ? 'unknown' : name;
  } catch {
    return 'unknown';
  }
}
