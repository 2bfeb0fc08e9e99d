// OpenTelemetry's SeverityNumber values (the Logs data model fixes them), as numbers: the enum lives in
// @opentelemetry/api, which this module must not load.
const SeverityNumber = { TRACE: 1, DEBUG: 5, INFO: 9, INFO2: 10, WARN: 13, ERROR: 17, FATAL: 21 } as const;

export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** A level as records carry it: its Astralog name and OTel severity. */
export interface Level {
  /** As sent to Astralog. */
  readonly text: string;
  readonly severity: number;
}

export const LEVELS: Readonly<Record<LevelName, Level>> = Object.freeze({
  trace: { text: 'trace', severity: SeverityNumber.TRACE },
  debug: { text: 'debug', severity: SeverityNumber.DEBUG },
  info: { text: 'info', severity: SeverityNumber.INFO },
  warn: { text: 'warn', severity: SeverityNumber.WARN },
  error: { text: 'error', severity: SeverityNumber.ERROR },
  fatal: { text: 'fatal', severity: SeverityNumber.FATAL },
});

// Maps, not object lookups: a level named "constructor" or "__proto__" must not find Object.prototype.
const BY_NAME = new Map<string, Level>(Object.entries(LEVELS));
// Custom levels the other Astralog SDKs use, ranked for the minimum-level filter.
const ALIASES = new Map<string, number>([
  ['warning', SeverityNumber.WARN],
  ['critical', SeverityNumber.FATAL],
  ['crit', SeverityNumber.FATAL],
  ['panic', SeverityNumber.FATAL],
  ['notice', SeverityNumber.INFO2],
  ['verbose', SeverityNumber.DEBUG],
]);

const custom = new Map<string, Level>();

/** The level for `event(level, …)`: known names and aliases ranked, other custom levels as info. */
export function levelFor(name: unknown): Level {
  if (typeof name !== 'string' || name === '') return LEVELS.info;
  const known = BY_NAME.get(name);
  if (known !== undefined) return known;
  let level = custom.get(name);
  if (level === undefined) {
    const lower = name.toLowerCase();
    const severity = BY_NAME.get(lower)?.severity ?? ALIASES.get(lower) ?? SeverityNumber.INFO;
    level = { text: lower, severity };
    if (custom.size < 256) custom.set(name, level); // bounded: level names could come from data
  }
  return level;
}
