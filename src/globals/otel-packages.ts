import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The OpenTelemetry packages this SDK uses, loaded when first needed rather than on import: together
// they were most of register's start-up cost (about 100 ms of CPU in a hello-world), and a process
// that never meets a span, a context manager or a foreign exporter needs none of them to ship logs.
// This is the CommonJS bundles' version (register's set-up among them), which require them from this
// package's folder as static imports would resolve them; the ESM bundles import them
// (otel-packages.esm.ts says why; tsup.config.ts picks the file per format).

const load = createRequire(import.meta.url);

type Api = typeof import('@opentelemetry/api');
type Core = typeof import('@opentelemetry/core');
type Resources = typeof import('@opentelemetry/resources');
type SdkLogs = typeof import('@opentelemetry/sdk-logs');
type ContextAsyncHooks = typeof import('@opentelemetry/context-async-hooks');

let api: Api | undefined;
let core: Core | undefined;
let resources: Resources | undefined;
let sdkLogs: SdkLogs | undefined;
let contextAsyncHooks: ContextAsyncHooks | undefined;

export function otelApi(): Api {
  return (api ??= load('@opentelemetry/api') as Api);
}

/**
 * One module of @opentelemetry/api's own files, when the API is not loaded yet (undefined when that
 * file has moved): the Logs and Context APIs and the root context need a dozen of its files, about
 * 7 ms of CPU, where the whole API costs 25. They are the modules the API's index loads too, so the
 * same objects: its singletons and its registry are shared.
 */
function apiModule<T>(file: string): T | undefined {
  if (api !== undefined) return undefined;
  try {
    return load(join(dirname(load.resolve('@opentelemetry/api')), file)) as T;
  } catch {
    return undefined;
  }
}

type Singleton<T> = { getInstance(): T } | undefined;

let logsApi: Api['logs'] | undefined;
let contextApi: Api['context'] | undefined;
let rootContext: Api['ROOT_CONTEXT'] | undefined;

/** `logs` of @opentelemetry/api, loading only its own module until the API is loaded. */
export function otelLogsApi(): Api['logs'] {
  return (logsApi ??= apiModule<{ LogsAPI?: Singleton<Api['logs']> }>('api/logs.cjs')?.LogsAPI?.getInstance() ?? otelApi().logs);
}

/** `context` of @opentelemetry/api, loading only its own module until the API is loaded. */
export function otelContextApi(): Api['context'] {
  return (contextApi ??= apiModule<{ ContextAPI?: Singleton<Api['context']> }>('api/context.cjs')?.ContextAPI?.getInstance() ?? otelApi().context);
}

/** ROOT_CONTEXT of @opentelemetry/api, loading only its own module until the API is loaded. */
export function otelRootContext(): Api['ROOT_CONTEXT'] {
  return (rootContext ??= apiModule<{ ROOT_CONTEXT?: Api['ROOT_CONTEXT'] }>('context/context.cjs')?.ROOT_CONTEXT ?? otelApi().ROOT_CONTEXT);
}

/** The file of @opentelemetry/api these functions load; undefined when it cannot be found. */
export function otelApiFile(): string | undefined {
  try {
    return load.resolve('@opentelemetry/api');
  } catch {
    return undefined;
  }
}

export function otelCore(): Core {
  return (core ??= load('@opentelemetry/core') as Core);
}

export function otelResources(): Resources {
  return (resources ??= load('@opentelemetry/resources') as Resources);
}

export function otelSdkLogs(): SdkLogs {
  return (sdkLogs ??= load('@opentelemetry/sdk-logs') as SdkLogs);
}

export function otelContextAsyncHooks(): ContextAsyncHooks {
  return (contextAsyncHooks ??= load('@opentelemetry/context-async-hooks') as ContextAsyncHooks);
}
