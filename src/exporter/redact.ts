/** Keys whose answer is remembered: short ones, up to a bound (keys built from data must not grow it). */
const MAX_CACHED_KEYS = 1024;
const MAX_CACHED_KEY_LENGTH = 64;

/**
 * Decides which metadata keys are sensitive. Keys are compared lower-cased with punctuation removed,
 * and a configured key matches as a suffix: `token` catches `access_token` and `githubToken`,
 * `api_key` catches `X-Api-Key`. The answer per key is remembered: keys recur on every event and
 * every console object, and normalising allocates.
 */
export class KeyRedactor {
  private readonly patterns: string[];
  private readonly answers = new Map<string, boolean>();

  constructor(keys: readonly string[]) {
    this.patterns = [...new Set(keys.map(normalizeKey).filter((k) => k !== ''))];
  }

  /** False when no configured key can match any key: nothing to look for. */
  get active(): boolean {
    return this.patterns.length > 0;
  }

  isSensitive(key: string): boolean {
    if (this.patterns.length === 0) return false;
    const known = this.answers.get(key);
    if (known !== undefined) return known;
    const normal = normalizeKey(key);
    const sensitive = this.patterns.some((pattern) => normal.endsWith(pattern));
    if (key.length <= MAX_CACHED_KEY_LENGTH && this.answers.size < MAX_CACHED_KEYS) this.answers.set(key, sensitive);
    return sensitive;
  }
}

export const REDACTED = '[REDACTED]';

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}
