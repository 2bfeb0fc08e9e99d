import { KeyRedactor } from '../exporter/redact.ts';

const MAX_CACHED_KEYS = 1024;
const MAX_CACHED_KEY_LENGTH = 64;

/**
 * KeyRedactor's answer per key, remembered: console objects repeat their keys on every call, and
 * KeyRedactor normalises (allocates) on each question.
 */
export class SensitiveKeys {
  /** False when the redact list is empty: nothing to look for, no walk at all. */
  readonly active: boolean;
  private readonly redactor: KeyRedactor;
  private readonly cache = new Map<string, boolean>();

  constructor(keys: readonly string[]) {
    this.redactor = new KeyRedactor(keys);
    this.active = keys.some((k) => /[a-z0-9]/i.test(k));
  }

  has(key: string): boolean {
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    const sensitive = this.redactor.isSensitive(key);
    if (key.length <= MAX_CACHED_KEY_LENGTH && this.cache.size < MAX_CACHED_KEYS) this.cache.set(key, sensitive);
    return sensitive;
  }
}
