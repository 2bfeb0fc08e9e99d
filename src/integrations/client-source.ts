import type { Astralog } from '../client/client.ts';
import { AstralogConfigError } from '../config/errors.ts';
import { registerState } from '../register/gate.ts';

/**
 * The client an integration (pino, winston, Lambda) sends through: the one it was given, else
 * register's. Undefined when register was loaded but is not sending (no key, OTEL_SDK_DISABLED, a bad
 * variable: register said why on stderr): the integration then does nothing. Throws
 * AstralogConfigError when there is neither, at construction, where the mistake is made.
 */
export function clientFor(given: Astralog | undefined, integration: string): Astralog | undefined {
  if (given !== undefined) {
    if (given === null || typeof given !== 'object' || typeof given.event !== 'function' || typeof given.flush !== 'function') {
      throw new AstralogConfigError('client', `expected a client from createAstralog(), got ${given === null ? 'null' : typeof given}`);
    }
    return given;
  }
  const state = registerState();
  if (state === undefined) {
    throw new AstralogConfigError(
      'client',
      `${integration} needs a client: pass { client: createAstralog({ apiKey, … }) }, or load @astralog/otel/register first (node --import @astralog/otel/register app.js)`,
    );
  }
  return state.status === 'on' ? state.client : undefined;
}
