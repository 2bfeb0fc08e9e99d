// The CommonJS build of `@astralog/otel/register` (dist/register.cjs, for `node --require`); the
// ESM one is register/index.ts, which says why the set-up lives in a file of its own.
import { settledWithoutSetUp, type SetUpModule } from '../src/register/gate.ts';

if (!settledWithoutSetUp(process.env)) {
  const setUp = require(`${__dirname}/register-setup.cjs`) as SetUpModule;
  setUp.register();
}
