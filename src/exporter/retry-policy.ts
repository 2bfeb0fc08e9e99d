export interface RetryPolicyOptions {
  /** Backoff ceiling before the first retry; doubles per attempt. */
  baseDelayMs?: number;
  /** Cap on a single backoff. */
  maxDelayMs?: number;
  /** Attempts per request, the first included (the export's time budget may end them sooner). */
  maxAttempts?: number;
  /**
   * 'full': a delay drawn between 0 and the ceiling (spreads the retries of many clients); 'none':
   * the ceiling itself (the processor's pause between sending rounds, which the README states).
   */
  jitter?: 'full' | 'none';
  /** Injectable for tests. */
  random?: () => number;
}

/** How long to wait before another attempt (exponential backoff, full jitter); verdict.ts decides whether there is one. */
export class RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  private readonly random: () => number;

  constructor(options: RetryPolicyOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.random = options.jitter === 'none' ? () => 1 : (options.random ?? Math.random);
  }

  /** Delay before the next attempt, after `failedAttempts` (>= 1) failures. */
  backoffMs(failedAttempts: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(failedAttempts - 1, 30));
    return Math.floor(Math.min(1, this.random()) * ceiling);
  }
}

/**
 * Parses a Retry-After header (delta-seconds or an HTTP date) into milliseconds from `now`.
 * Returns undefined when absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Math.min(Number(value), 86_400) * 1000;
  if (!/[a-z]/i.test(value)) return undefined; // e.g. "-1" or "1.5": not a valid Retry-After
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
