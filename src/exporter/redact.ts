/**
 * Decides which metadata keys are sensitive. Keys are compared lower-cased with punctuation removed,
 * and a configured key matches as a suffix: `token` catches `access_token` and `githubToken`,
 * `api_key` catches `X-Api-Key`. Answers are cached, since the same keys recur on every event.
 */
export class KeyRedactor {
  private readonly patterns: string[];
  private readonly cache = new Map<string, boolean>();

  constructor(keys: readonly string[]) {
    this.patterns = [...new Set(keys.map(normalizeKey).filter((k) => k !== ''))];
  }

  get enabled(): boolean {
    return this.patterns.length > 0;
  }

  isSensitive(key: string): boolean {
    if (this.patterns.length === 0) return false;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const normal = normalizeKey(key);
    let sensitive = false;
    for (const pattern of this.patterns) {
      if (normal.endsWith(pattern)) {
        sensitive = true;
        break;
      }
    }
    // Bounded: keys built from data (ids in keys) must not grow the cache without limit.
    if (this.cache.size < 4096) this.cache.set(key, sensitive);
    return sensitive;
  }
}

export const REDACTED = '[REDACTED]';

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}
