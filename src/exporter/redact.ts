/**
 * Decides which metadata keys are sensitive. Keys are compared lower-cased with punctuation removed,
 * and a configured key matches as a suffix: `token` catches `access_token` and `githubToken`,
 * `api_key` catches `X-Api-Key`. (MemberKeys in safe-json.ts keeps the answer per key: keys recur on every event.)
 */
export class KeyRedactor {
  private readonly patterns: string[];

  constructor(keys: readonly string[]) {
    this.patterns = [...new Set(keys.map(normalizeKey).filter((k) => k !== ''))];
  }

  isSensitive(key: string): boolean {
    if (this.patterns.length === 0) return false;
    const normal = normalizeKey(key);
    for (const pattern of this.patterns) if (normal.endsWith(pattern)) return true;
    return false;
  }
}

export const REDACTED = '[REDACTED]';

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}
