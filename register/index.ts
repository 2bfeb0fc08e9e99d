// `node --import @astralog/otel/register app.js` or `node --require @astralog/otel/register app.cjs`:
// sets up logging to Astralog from the environment. Side effects only.
//
// This is the ESM build (dist/register.js); register/require.ts is the CommonJS one. When there is
// nothing to set up (OTEL_SDK_DISABLED=true, no ASTRALOG_API_KEY, another copy already ran) it
// settles that without loading anything heavy. Otherwise it loads the rest (src/register/register.ts:
// the client, OpenTelemetry, http, zlib, ...) in its CommonJS build, dist/register-setup.cjs next to
// this file: Node loads the OpenTelemetry packages' CommonJS files at about half the CPU of their
// ESM ones (bench/RESULTS.md, start-up), and the app starts after register as before.
import { createRequire } from 'node:module';
import { settledWithoutSetUp, type SetUpModule } from '../src/register/gate.ts';

if (!settledWithoutSetUp(process.env)) {
  const setUp = createRequire(import.meta.url)('./register-setup.cjs') as SetUpModule;
  setUp.register();
  // The ESM copy of the API keeps its own setGlobalLoggerProvider: watched too, before the app runs,
  // where the app may register a logger provider of its own (it has NodeSDK, or depends on
  // OpenTelemetry). Such an app loads that copy anyway; any other would pay about 15 ms of CPU at
  // start-up for nothing to watch.
  if (setUp.otelSdkLikely()) setUp.watchLogsApi(await esmLogsApi());
}

/**
 * The ESM copy's Logs API object without the rest of the API (its module and the dozen it needs,
 * about 8 ms of CPU against 30 for the whole API): the module the API's index imports too, so the
 * same object. The whole API when that file has moved; undefined when there is no API.
 */
async function esmLogsApi(): Promise<unknown> {
  try {
    const { LogsAPI } = (await import(new URL('./api/logs.mjs', import.meta.resolve('@opentelemetry/api')).href)) as { LogsAPI: { getInstance(): unknown } };
    return LogsAPI.getInstance();
  } catch {
    return (await import('@opentelemetry/api').catch(() => undefined))?.logs;
  }
}
