import { describe, expect, it } from 'vitest';
import { parseRetryAfter, RetryPolicy } from '../../src/exporter/retry-policy.ts';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-28T10:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sat, 28 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 09:00:00 GMT', now)).toBe(0); // in the past: now
  });
  it('ignores what it cannot read', () => {
    for (const v of [undefined, '', '-1', '1.5', 'soon', '1e3']) expect(parseRetryAfter(v, now), String(v)).toBeUndefined();
  });
  it('caps absurd values at a day', () => {
    expect(parseRetryAfter('99999999999', now)).toBe(86_400_000);
  });
});

describe('RetryPolicy', () => {
  it('uses full jitter under an exponential ceiling', () => {
    const top = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 10].map((n) => top.backoffMs(n))).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = new RetryPolicy({ random: () => 0 });
    expect(bottom.backoffMs(3)).toBe(0);
  });

  it('without jitter, waits the ceiling itself (the processor between sending rounds)', () => {
    const steady = new RetryPolicy({ baseDelayMs: 1000, maxDelayMs: 10_000, jitter: 'none', random: () => 0 });
    expect([1, 2, 3, 4, 5, 40].map((n) => steady.backoffMs(n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});
