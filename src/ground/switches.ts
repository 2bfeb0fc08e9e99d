// No imports: read both by env.ts (the full configuration) and by register's early exit
// (register/index.ts, before anything heavy is loaded), so the two can never disagree.

export type Env = Readonly<Record<string, string | undefined>>;

/** Whether register runs at all: OTEL_SDK_DISABLED, then ASTRALOG_API_KEY (ASTRALOG_ENDPOINT only to say so). */
export type Switches =
  | { state: 'disabled'; reason: string }
  | { state: 'off'; reason: string }
  | { state: 'on'; apiKey: string; endpoint: string | undefined };

/** Reads the switches; a bad OTEL_SDK_DISABLED is pushed to `errors` (and counts as false). */
export function readSwitches(env: Env, errors: string[]): Switches {
  const disabled = readBoolean(env, 'OTEL_SDK_DISABLED', false, errors);
  if (disabled) return { state: 'disabled', reason: 'OTEL_SDK_DISABLED=true' };
  const apiKey = text(env, 'ASTRALOG_API_KEY');
  const endpoint = text(env, 'ASTRALOG_ENDPOINT');
  if (apiKey === undefined) {
    return {
      state: 'off',
      reason:
        endpoint === undefined
          ? 'ASTRALOG_API_KEY is not set: logs are not sent to Astralog. Set ASTRALOG_API_KEY (and ASTRALOG_ENDPOINT for a self-hosted or local receiver) to turn it on.'
          : `ASTRALOG_API_KEY is not set (ASTRALOG_ENDPOINT is ${endpoint}): logs are not sent. Set ASTRALOG_API_KEY to turn it on.`,
    };
  }
  return { state: 'on', apiKey, endpoint };
}

/** A variable's value, trimmed; unset and blank are both undefined. */
export function text(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
/** What an environment variable says to turn a thing off, lowercase. */
export const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

/** true/1/yes/on or false/0/no/off, any case; unset is `fallback`, anything else an error (and `fallback`). */
export function readBoolean(env: Env, name: string, fallback: boolean, errors: string[]): boolean {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  if (FALSE_WORDS.has(lower)) return false;
  errors.push(`${name}: expected true or false, got '${value}'`);
  return fallback;
}
