import type { Cluster } from 'node:cluster';
import type { DiagLogger } from '@opentelemetry/api';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { AstralogClient } from '../client/client.ts';
import { appPackage } from '../config/app-package.ts';
import type { AstralogOptions } from '../config/client-config.ts';
import { readEnvConfig, describeEnvError, type OtelLogLevel, type RegisterSettings } from '../config/env.ts';
import { captureConsole } from '../console/capture.ts';
import { correlationSource } from '../context/context.ts';
import { registerSecret, reportError, reportInfo } from '../diagnostics.ts';
import { otelApi } from '../globals/otel-packages.ts';
import { resolveFromApp } from '../globals/require-from-app.ts';
import { writeStderr } from '../ground/stderr.ts';
import { PACKAGE_NAME } from '../version.ts';
import { installCrashHandlers } from './crash.ts';
import { settledWithoutSetUp, STATE, type RegisterState } from './gate.ts';
import { installExitHandlers } from './exit.ts';
import { createOtlpExporter } from './otlp.ts';
import { ExitBudget } from './final-delivery.ts';
import { ClientLoggerProvider, registerGlobalLoggerProvider, watchLaterRegistrations, type LogsApi } from './global-provider.ts';

/**
 * Sets up logging to Astralog from the environment: the client, the global OTel logger provider,
 * exit, signal and crash flushing, console capture. Idempotent across module copies. Never throws:
 * whatever goes wrong, the application runs on, without us, with one line saying why.
 */
export function register(): void {
  const env = process.env;
  // Another copy already ran, or there is nothing to set up: the entry files asked the gate
  // already, but another copy may have run while this file was loading.
  if (settledWithoutSetUp(env)) return;
  const state: RegisterState = { status: 'failed' };
  (globalThis as Record<symbol, RegisterState>)[STATE] = state;
  try {
    setUp(env, state);
  } catch (error) {
    state.status = 'failed';
    reportError(`register could not start; the application runs without it: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The global logger provider this module's register() registered. */
let globalProvider: ClientLoggerProvider | undefined;

/**
 * The ESM entry runs the set-up as CommonJS (cheaper to load) and then hands this same module the
 * ESM copy of @opentelemetry/api, which an ESM app and the NodeSDK it starts use: a later
 * registration through it is said too.
 */
export function watchLogsApi(api: unknown): void {
  if (globalProvider === undefined || typeof (api as Partial<LogsApi> | undefined)?.setGlobalLoggerProvider !== 'function') return;
  watchLaterRegistrations(api as LogsApi, globalProvider);
}

/**
 * Whether the app may register a logger provider of its own: it can load NodeSDK (installed
 * directly, or hoisted from a vendor's distribution of it), or a package.json of it (its own, a
 * monorepo root's) depends on OpenTelemetry (@opentelemetry/*, or a package named for it: a vendor's).
 */
export function otelSdkLikely(): boolean {
  if (resolveFromApp('@opentelemetry/sdk-node') !== undefined) return true;
  return appPackage().dependencies.some((name) => name !== PACKAGE_NAME && OTEL_PACKAGE.test(name));
}

/** @opentelemetry/sdk-logs, @azure/monitor-opentelemetry, @splunk/otel, @vendor/otel-node… (not "hotel", nor this package). */
const OTEL_PACKAGE = /opentelemetry|(^|[/@_.-])otel($|[/_.-])/i;

function setUp(env: NodeJS.ProcessEnv, state: RegisterState): void {
  registerSecret(env.ASTRALOG_API_KEY?.trim());
  const config = readEnvConfig(env);
  // 'disabled' and 'off' were settled by the gate, which reads the same switches.
  if (config.state === 'disabled' || config.state === 'off') return;
  if (config.state === 'invalid') {
    state.status = 'invalid';
    writeStderr(`not sending logs: bad configuration. ${config.errors.join('; ')}`);
    return;
  }
  const { options, settings } = config;
  if (settings.otelLogLevel !== undefined) installDiagLogger(settings.otelLogLevel);

  let client: AstralogClient;
  let otlp: LogRecordExporter | undefined;
  try {
    otlp = createOtlpExporter(env);
    client = new AstralogClient(withProcessIdentity(options), {
      resourceAttributes: settings.resourceAttributes,
      extraExporters: otlp === undefined ? [] : [otlp],
    });
  } catch (error) {
    state.status = 'invalid';
    writeStderr(`not sending logs: bad configuration. ${describeEnvError(error)}`);
    return;
  }
  const provider = new ClientLoggerProvider(client);
  registerGlobalLoggerProvider(provider);
  const budget = new ExitBudget(settings.shutdownTimeoutMs);
  installExitHandlers(client, budget);
  installCrashHandlers(client, budget);
  if (settings.captureConsole) captureConsole(client, options.redactKeys);
  state.status = 'on';
  state.client = client;
  globalProvider = provider;
  if (!settings.quiet) reportInfo(startupLine(client, settings, otlp !== undefined));
}

function startupLine(client: AstralogClient, settings: RegisterSettings, otlp: boolean): string {
  const otlpNote = otlp ? '; also over OTLP/HTTP to the OTEL_EXPORTER_OTLP endpoint' : '';
  const proxy = client.proxy;
  const via = proxy === undefined ? '' : ` through the proxy ${proxy.origin} (${proxy.variable ?? 'ASTRALOG_PROXY'})`;
  return (
    `sending logs to ${client.endpoint}${via} as service "${client.serviceName}"${serviceNote(client)}; ` +
    `trace correlation ${correlationNote(client)}; ` +
    `console capture ${settings.captureConsole ? 'on' : 'off'}${otlpNote} (ASTRALOG_QUIET=true hides this line)`
  );
}

/** Says where the service name came from when no setting named it, and warns when nothing did. */
function serviceNote(client: AstralogClient): string {
  if (client.serviceSource === 'package.json') return ' (the package.json name; ASTRALOG_SERVICE sets another)';
  if (client.serviceSource === 'unknown') return " (OpenTelemetry's default: nothing names this service; set ASTRALOG_SERVICE)";
  return '';
}

/** Where trace ids come from, as things stand at start (a tracer provider registered later takes over), and what to do when nowhere. */
function correlationNote(client: AstralogClient): string {
  switch (correlationSource(client.contextManager)) {
    case 'spans':
      return 'from spans (a tracer provider is registered)';
    case 'traceparent':
      return 'from incoming traceparent headers (no tracer provider registered yet; once one is, from its spans)';
    case 'none':
      return (
        'not yet: no tracer provider is registered, and incoming traceparent headers are read only under our context manager ' +
        '(load @astralog/otel/register before the code that registers a context manager, or register a tracer provider, e.g. NodeSDK with HTTP instrumentation)'
      );
    case 'off':
      return 'off: another @opentelemetry/api version owns the OpenTelemetry globals (npm ls @opentelemetry/api; keep a single 1.x copy)';
  }
}

/** Cluster workers share a service name: each event says which process wrote it. */
function withProcessIdentity(options: AstralogOptions): AstralogOptions {
  // Only a process with an IPC channel can be a worker: the others do not load node:cluster (~5 ms at start-up).
  if (typeof process.send !== 'function') return options;
  const cluster = process.getBuiltinModule('node:cluster') as unknown as Cluster; // its exports are the Cluster object
  if (!cluster.isWorker) return options;
  return { ...options, metadata: { 'process.pid': process.pid, 'cluster.worker_id': cluster.worker?.id ?? 0, ...options.metadata } };
}

/** OTEL_LOG_LEVEL: OTel's own diagnostics, written straight to stderr (never through console). */
function installDiagLogger(level: OtelLogLevel): void {
  const write = (kind: string) => (message: string, ...args: unknown[]) =>
    writeStderr(`otel ${kind}: ${message}${args.length > 0 ? ' ' + args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') : ''}`);
  const logger: DiagLogger = { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('verbose') };
  const { diag, DiagLogLevel } = otelApi();
  diag.setLogger(logger, { logLevel: DiagLogLevel[level], suppressOverrideMessage: true });
}
