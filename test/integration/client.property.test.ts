import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAstralog, type Astralog } from '../../src/index.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { hostileAnything } from '../support/arbitraries.ts';
import { expectAccounted } from '../support/processing.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// Hostile input through the public client API, to a receiver that validates every body against
// the ingest contract (a corrupt body would be answered 400 and counted as rejected).
const MAX_EVENT_BYTES = 8192;
let receiver: Receiver;
let log: Astralog;

beforeAll(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
  log = createAstralog({ apiKey: TEST_KEY, endpoint: receiver.url, maxEventBytes: MAX_EVENT_BYTES, maxStringLength: 2048, flushIntervalMs: 60_000 });
});
afterAll(async () => {
  await log.close();
  await receiver.close();
});

const anything = hostileAnything();
const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'trace_id', 'password', 'toString', ''), fc.string({ unit: 'binary', maxLength: 40 }));
const metadata = fc.oneof(anything, fc.dictionary(key, anything, { maxKeys: 8 }), fc.constant(undefined));
const hugeString = fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'x'.repeat(n));
const call = fc.record({
  method: fc.constantFrom('info', 'warn', 'error', 'debug', 'event'),
  level: fc.oneof(fc.string({ unit: 'binary', maxLength: 50 }), fc.constantFrom('critical', 'CONSTRUCTOR', '__proto__'), anything),
  message: fc.oneof(fc.string({ unit: 'binary' }), anything, hugeString),
  metadata: fc.oneof(metadata, hugeString.map((s) => ({ big: s }))),
});

describe('the client API under hostile input', () => {
  it('never throws, never sends a corrupt or oversized body, and accounts for everything', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 20 }), async (calls) => {
        const before = receiver.requests.length;
        for (const c of calls) {
          const args = c.method === 'event' ? [c.level, c.message, c.metadata] : [c.message, c.metadata];
          expect(() => (log as unknown as Record<string, (...a: unknown[]) => void>)[c.method]!(...args)).not.toThrow();
        }
        await log.flush();
        for (const request of receiver.requests.slice(before)) {
          expect(request.status, request.bodyText.slice(0, 300)).toBe(202);
          for (const event of request.events) expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 150 },
    );
    const stats = log.stats();
    expectAccounted(stats);
    expect(stats.dropped.rejected).toBe(0);
    expect(stats.exported).toBe(stats.emitted);
  });
});
