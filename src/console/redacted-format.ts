import { format, inspect } from 'node:util';
import { REDACTED, type KeyRedactor } from '../exporter/redact.ts';
import { redactForInspect, TooLargeToCheck, type PrintScope } from './redact-copy.ts';

/** How util.format prints an argument (see formatWithOptionsInternal in Node's lib/internal/util/inspect.js). */
const Use = {
  /** Not an object, or turned into a number / dropped (%d %i %f %c): nothing to redact. */
  None: 0,
  /** util.inspect with the default options (an extra argument, %O). */
  Inspect: 1,
  /** %o: showHidden, depth 4. */
  InspectHidden: 2,
  /** %s: inspect at depth 0 (or the object's own toString). */
  String: 3,
  /** %j: JSON.stringify, at any depth. */
  Json: 4,
} as const;
type Use = (typeof Use)[keyof typeof Use];

/** Shipped in place of an argument that could not be checked (a Proxy whose traps throw, a huge graph). */
export const UNCHECKED = '[not shipped: could not be checked for secrets]';
const TOO_LARGE = '[not shipped: too large to check for secrets]';

/**
 * util.format(...args), with the values of sensitive keys replaced by "[REDACTED]" wherever util.format
 * would print them. An argument with nothing sensitive is passed to util.format as it is (same bytes,
 * no copy); a call without objects costs what util.format costs. Never throws.
 */
export function formatRedacted(args: readonly unknown[], keys: KeyRedactor): string {
  try {
    return formatChecked(args, keys);
  } catch {
    return UNCHECKED; // util.format itself failed on a copy (an inspect.custom that needs the original, …)
  }
}

function formatChecked(args: readonly unknown[], keys: KeyRedactor): string {
  if (!keys.active) return format(...args);
  let i = 0;
  while (i < args.length && (typeof args[i] !== 'object' || args[i] === null)) i++;
  if (i === args.length) return format(...args);

  const uses = usesOf(args);
  let replaced: unknown[] | undefined;
  for (; i < args.length; i++) {
    const value = args[i];
    if (typeof value !== 'object' || value === null || uses[i] === Use.None) continue;
    const safe = redactArgument(value, uses[i] as Use, keys);
    if (safe !== value) {
      replaced ??= args.slice();
      replaced[i] = safe;
    }
  }
  if (replaced === undefined) return format(...args);
  try {
    return format(...replaced);
  } catch {
    // A copy that cannot be printed (its inspect.custom or toString needs the original): drop it whole.
    for (let j = 0; j < replaced.length; j++) if (replaced[j] !== args[j] && typeof replaced[j] === 'object') replaced[j] = REDACTED;
    return format(...replaced);
  }
}

function redactArgument(value: object, use: Use, keys: KeyRedactor): unknown {
  try {
    return use === Use.Json ? redactJson(value, keys) : redactForInspect(value, keys, scopeOf(use));
  } catch (error) {
    return error instanceof TooLargeToCheck ? TOO_LARGE : UNCHECKED;
  }
}

/** Which use util.format makes of each argument, placeholders followed exactly as Node does. */
function usesOf(args: readonly unknown[]): Uint8Array {
  const uses = new Uint8Array(args.length).fill(Use.Inspect);
  const first = args[0];
  if (typeof first !== 'string') return uses;
  uses[0] = Use.None;
  let a = 0;
  for (let i = 0; i < first.length - 1; i++) {
    if (first.charCodeAt(i) !== 37 /* % */) continue;
    const next = first.charCodeAt(++i);
    if (a + 1 === args.length) continue;
    switch (next) {
      case 115 /* s */:
        uses[++a] = Use.String;
        break;
      case 106 /* j */:
        uses[++a] = Use.Json;
        break;
      case 79 /* O */:
        uses[++a] = Use.Inspect;
        break;
      case 111 /* o */:
        uses[++a] = Use.InspectHidden;
        break;
      case 100 /* d */:
      case 105 /* i */:
      case 102 /* f */:
      case 99 /* c */:
        uses[++a] = Use.None;
        break;
      default: // %% and unknown placeholders take no argument
    }
  }
  return uses;
}

function scopeOf(use: Use): PrintScope {
  // Read per call: the application may change util.inspect.defaultOptions at any time.
  const defaults = inspect.defaultOptions;
  const maxItems = defaults.maxArrayLength === null || defaults.maxArrayLength === undefined ? Infinity : Math.max(0, defaults.maxArrayLength);
  const hidden = defaults.showHidden === true;
  if (use === Use.InspectHidden) return { depth: 4, maxItems, hidden: true };
  if (use === Use.String) return { depth: 0, maxItems, hidden };
  return { depth: defaults.depth === null || defaults.depth === undefined ? Infinity : defaults.depth, maxItems, hidden };
}

/**
 * %j prints JSON.stringify(value) whole: when a sensitive key would be in it, the argument becomes an
 * object whose toJSON gives the same JSON with those values redacted.
 */
function redactJson(value: object, keys: KeyRedactor): unknown {
  let found = false;
  let json: string | undefined;
  try {
    json = JSON.stringify(value, function (this: unknown, key: string, member: unknown): unknown {
      if (key === '' || Array.isArray(this) || member === undefined || typeof member === 'function' || typeof member === 'symbol') return member;
      if (!keys.isSensitive(key)) return member;
      found = true;
      return REDACTED;
    });
  } catch {
    return value; // a cycle: util.format prints "[Circular]" for the whole argument
  }
  if (!found || json === undefined) return value;
  const text = json;
  return { toJSON: () => JSON.parse(text) as unknown };
}
