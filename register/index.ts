// `node --import @astralog/otel/register app.js` or `node --require @astralog/otel/register app.cjs`:
// sets up logging to Astralog from the environment. Side effects only.
import { register } from '../src/register/register.ts';

register();
