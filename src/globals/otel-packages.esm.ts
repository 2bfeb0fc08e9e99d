import { createRequire } from 'node:module';
import * as api from '@opentelemetry/api';
import * as contextAsyncHooks from '@opentelemetry/context-async-hooks';
import * as core from '@opentelemetry/core';
import * as resources from '@opentelemetry/resources';
import * as sdkLogs from '@opentelemetry/sdk-logs';

// otel-packages.ts as the ESM bundles (and the tests) use it: the same packages, imported. An ESM
// app loads the ESM copies of OpenTelemetry, and some of their state is per copy (core's global
// error handler): an ESM import of ours must use those, and a module can only get them
// synchronously by importing them. The CommonJS bundles (register's set-up among them) load them
// lazily instead (tsup.config.ts picks the file per format).

export const otelApi = (): typeof api => api;
export const otelLogsApi = (): typeof api.logs => api.logs;
export const otelContextApi = (): typeof api.context => api.context;
export const otelRootContext = (): typeof api.ROOT_CONTEXT => api.ROOT_CONTEXT;
/** The CommonJS file of the API copy resolved from here (register compares it with the app's). */
export const otelApiFile = (): string | undefined => {
  try {
    return createRequire(import.meta.url).resolve('@opentelemetry/api');
  } catch {
    return undefined;
  }
};
export const otelCore = (): typeof core => core;
export const otelResources = (): typeof resources => resources;
export const otelSdkLogs = (): typeof sdkLogs => sdkLogs;
export const otelContextAsyncHooks = (): typeof contextAsyncHooks => contextAsyncHooks;
