import type { Logger, LoggerOptions, LoggerProvider as ApiLoggerProvider } from '@opentelemetry/api';
import type { LoggerProvider } from '@opentelemetry/sdk-logs';
import { reportError, reportOnce } from '../diagnostics.ts';
import { bridgeApiLogs } from '../globals/api-logs-bridge.ts';
import { otelApiFile, otelLogsApi } from '../globals/otel-packages.ts';
import { requireFile, resolveFromApp } from '../globals/require-from-app.ts';
const WATCHED = Symbol.for('@astralog/otel.watched-logs-api');

const FIX =
  'To send them to Astralog, load @astralog/otel/register before that SDK starts (the first --import or --require), ' +
  'or set OTEL_LOGS_EXPORTER=none for NodeSDK (it then registers no logger provider), or give NodeSDK our processor ' +
  '(logRecordProcessors: [new AstralogBatchLogRecordProcessor({ exporter: new AstralogLogRecordExporter({ apiKey }) })]) and drop register.';
/** What still reaches Astralog when another provider is global. */
const STILL =
  'console output, crashes, the client API and the @astralog/otel/pino and /winston transports still reach Astralog.';

/** What ClientLoggerProvider uses of the client. */
type ProviderClient = { readonly loggerProvider: LoggerProvider; flush(): Promise<void> };

/**
 * What register makes the global logger provider: the loggers of the client's Logs SDK provider,
 * which is built (and the Logs SDK loaded) when the first logger is asked for, not at start-up.
 */
export class ClientLoggerProvider implements ApiLoggerProvider {
  readonly #client: ProviderClient;

  constructor(client: ProviderClient) {
    this.#client = client;
  }

  getLogger(name: string, version?: string, options?: LoggerOptions): Logger {
    return this.#client.loggerProvider.getLogger(name, version, options);
  }

  /**
   * The client's flush (code that flushes the global provider before a Lambda freezes): bounded by
   * its own deadline and never rejects, where the Logs SDK provider's rejects after 30 s.
   */
  forceFlush(): Promise<void> {
    return this.#client.flush();
  }

  /** The Logs SDK provider's own: what is logged afterwards is dropped and counted, as it was. */
  shutdown(): Promise<void> {
    return this.#client.loggerProvider.shutdown();
  }
}

/**
 * Makes our provider the global OTel logger provider, so every OTel log source (pino/winston
 * instrumentations, libraries) reaches Astralog, and through the api-logs bridge the older Logs API's
 * appenders too. Says so when another SDK got there first, or tries to register after us.
 */
export function registerGlobalLoggerProvider(provider: ApiLoggerProvider): void {
  const logs = otelLogsApi();
  const registered = logs.setGlobalLoggerProvider(provider);
  if (!registered) {
    const existing = describeProvider(logs.getLoggerProvider());
    reportError(
      `another OpenTelemetry logger provider (${existing}) was registered before @astralog/otel/register, e.g. by NodeSDK: ` +
        `records written through the OpenTelemetry Logs API (the pino and winston instrumentations, @opentelemetry/winston-transport, ` +
        `libraries) go to it, not to Astralog; ${STILL} ${FIX}`,
    );
  }
  // Our processor bridged the older @opentelemetry/api-logs global to this one when it was built.
  if (bridgeApiLogs() === 'taken') {
    reportError(
      `another logger provider was registered on the @opentelemetry/api-logs global first: records written through that package ` +
        `(e.g. by @opentelemetry/winston-transport) go to it, not to Astralog; ${STILL}`,
    );
  }
  for (const api of apiCopies(logs as unknown as LogsApi)) watchLaterRegistrations(api, provider);
}

export type LogsApi = { setGlobalLoggerProvider(provider: unknown): boolean; [WATCHED]?: true };

/**
 * NodeSDK registers its logger provider when it starts, often after us. Its registration then
 * fails with only a diag message few people see; tell the user instead. Both module copies of
 * @opentelemetry/api (ESM and CommonJS) are watched: they keep separate API objects.
 */
export function watchLaterRegistrations(api: LogsApi, ours: ApiLoggerProvider): void {
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

function apiCopies(ours: LogsApi): LogsApi[] {
  // The app's CommonJS copy is ours unless it resolves to another file (a nested install): only then is it loaded.
  const file = resolveFromApp('@opentelemetry/api');
  if (file === undefined || file === otelApiFile()) return [ours];
  const commonjs = requireFile<{ logs: LogsApi }>(file);
  return commonjs === undefined || commonjs.logs === ours ? [ours] : [ours, commonjs.logs];
}

function describeProvider(provider: unknown): string {
  try {
    const name = (provider as { constructor?: { name?: string } })?.constructor?.name?.replace(/\$\d+$/, ''); // bundlers rename classes to Name$1
    return name === undefined || name === '' ? 'unknown' : name;
  } catch {
    return 'unknown';
  }
}
