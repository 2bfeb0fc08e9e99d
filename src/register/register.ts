import cluster from 'node:cluster';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { AstralogClient } from '../client/client.ts';
import type { AstralogOptions } from '../config/client-config.ts';
import { readEnvConfig, describeEnvError, type OtelLogLevel, type RegisterSettings } from '../config/env.ts';
import { captureConsole } from '../console/capture.ts';
import { reportError, reportInfo } from '../diagnostics.ts';
import { writeStderr } from './stderr.ts';
import { installCrashHandlers } from './crash.ts';
import { STATE, type RegisterState } from './gate.ts';
import { installExitHandlers } from './exit.ts';
import { createOtlpExporter } from './otlp.ts';
import { ExitBudget } from './final-delivery.ts';
import { registerGlobalLoggerProvider } from './global-provider.ts';

export type { RegisterState };

/**
 * Sets up logging to Astralog from the environment: the client, the global OTel logger provider,
 * exit, signal and crash flushing, console capture. Idempotent across module copies. Never throws:
 * whatever goes wrong, the application runs on, without us, with one line saying why.
 */
export function register(env: NodeJS.ProcessEnv = process.env): RegisterState {
  const global = globalThis as Record<symbol, RegisterState | undefined>;
  const existing = global[STATE];
  if (existing !== undefined) return existing;
  const state: RegisterState = { status: 'failed' };
  global[STATE] = state;
  try {
    setUp(env, state);
  } catch (error) {
    state.status = 'failed';
    reportError(`register could not start; the application runs without it: ${error instanceof Error ? error.message : String(error)}`);
  }
  return state;
}

function setUp(env: NodeJS.ProcessEnv, state: RegisterState): void {
  const config = readEnvConfig(env);
  if (config.state === 'disabled') {
    state.status = 'disabled';
    return;
  }
  if (config.state === 'off') {
    state.status = 'off';
    writeStderr(config.reason);
    return;
  }
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
  registerGlobalLoggerProvider(client.loggerProvider);
  const budget = new ExitBudget(settings.shutdownTimeoutMs);
  installExitHandlers(client, budget);
  installCrashHandlers(client, budget);
  if (settings.captureConsole) captureConsole(client);
  state.status = 'on';
  if (!settings.quiet) reportInfo(startupLine(client, settings, otlp !== undefined));
}

function startupLine(client: AstralogClient, settings: RegisterSettings, otlp: boolean): string {
  const otlpNote = otlp ? '; also over OTLP/HTTP to the OTEL_EXPORTER_OTLP endpoint' : '';
  return (
    `sending logs to ${client.endpoint} as service "${client.serviceName}"; ` +
    `trace correlation ${client.traceCorrelation ? 'on' : 'off (another @opentelemetry/api version owns the globals)'}; ` +
    `console capture ${settings.captureConsole ? 'on' : 'off'}${otlpNote} (ASTRALOG_QUIET=true hides this line)`
  );
}

/** Cluster workers share a service name: each event says which process wrote it. */
function withProcessIdentity(options: AstralogOptions): AstralogOptions {
  if (!cluster.isWorker) return options;
  return { ...options, metadata: { 'process.pid': process.pid, 'cluster.worker_id': cluster.worker?.id ?? 0, ...options.metadata } };
}

/** OTEL_LOG_LEVEL: OTel's own diagnostics, written straight to stderr (never through console). */
function installDiagLogger(level: OtelLogLevel): void {
  const write = (kind: string) => (message: string, ...args: unknown[]) =>
    writeStderr(`otel ${kind}: ${message}${args.length > 0 ? ' ' + args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') : ''}`);
  const logger: DiagLogger = { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('verbose') };
  diag.setLogger(logger, { logLevel: DiagLogLevel[level], suppressOverrideMessage: true });
}
