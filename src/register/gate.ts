// No dependencies beyond ../ground/stderr.ts and ../ground/switches.ts (import-free; the client is a type): register/index.ts
// runs this before deciding whether to load register.ts and, with it, the client and OpenTelemetry.
import { writeStderr } from '../ground/stderr.ts';
import { readSwitches, type Env } from '../ground/switches.ts';
import type { Astralog } from '../client/client.ts';

/** Shared by every copy of this package in the process (ESM and CommonJS builds, --import and --require). */
export const STATE = Symbol.for('@astralog/otel.register');

export interface RegisterState {
  status: 'on' | 'off' | 'disabled' | 'invalid' | 'failed';
  /** Register's client while status is 'on': the pino and winston transports and the Lambda wrapper use it when given none. */
  client?: Astralog;
}

/** Register's state in this process, or undefined when register was not loaded. */
export function registerState(): RegisterState | undefined {
  return (globalThis as Record<symbol, RegisterState | undefined>)[STATE];
}

/**
 * Settles register without setting anything up when it can: another copy already ran, or
 * OTEL_SDK_DISABLED=true (silent), or no ASTRALOG_API_KEY (one line; a bad OTEL_SDK_DISABLED is not
 * reported then). With a key it returns false: the caller loads register.ts and runs register(),
 * which asks this again before it sets up.
 */
export function settledWithoutSetUp(env: Env): boolean {
  const global = globalThis as Record<symbol, RegisterState | undefined>;
  if (global[STATE] !== undefined) return true;
  const switches = readSwitches(env, []);
  if (switches.state === 'on') return false;
  global[STATE] = { status: switches.state };
  if (switches.state === 'off') writeStderr(switches.reason);
  return true;
}

/** What register/index.ts and register/require.ts load when there is something to set up (types only). */
export type SetUpModule = typeof import('./register.ts');
