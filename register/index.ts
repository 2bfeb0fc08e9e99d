// `node --import @astralog/otel/register app.js` or `node --require @astralog/otel/register app.cjs`:
// sets up logging to Astralog from the environment. Side effects only.
//
// This is the ESM build (dist/register.js); register/require.ts is the CommonJS one. When there is
// nothing to set up (OTEL_SDK_DISABLED=true, no ASTRALOG_API_KEY, another copy already ran) it
// settles that without loading anything heavy. Otherwise it loads the rest (src/register/register.ts:
// the client, OpenTelemetry, http, zlib, ...), built as dist/register-setup.js next to this file,
// and waits for it, so the app starts after register as before (see tsup.config.ts).
import { settledWithoutSetUp, type SetUpModule } from '../src/register/gate.ts';

if (!settledWithoutSetUp(process.env)) {
  const setUp = (await import(new URL('./register-setup.js', import.meta.url).href)) as SetUpModule;
  setUp.register();
}
