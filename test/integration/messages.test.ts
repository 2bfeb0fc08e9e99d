import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AstralogBatchLogRecordProcessor, AstralogLogRecordExporter, createAstralog } from '../../src/index.ts';
import { captureStderr, TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { makeRecords } from '../support/records.ts';

// What the SDK says on stderr: one line when sending starts to fail and one when it works again
// (with counts), words that say what happens next, one drop line per ending, nothing that points
// register users at an API they cannot call.

let receiver: Receiver;
let stderr: ReturnType<typeof captureStderr>;
let processor: AstralogBatchLogRecordProcessor | undefined;
beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
  stderr = captureStderr();
});
afterEach(async () => {
  await processor?.shutdown();
  processor = undefined;
  await receiver.close();
  stderr.restore();
});
const lines = (pattern: RegExp) => stderr.lines().filter((l) => pattern.test(l));

describe('what the SDK says', () => {
  it('one line when an outage starts and one when it ends, with counts; never "gave up" while records are kept', async () => {
    let outage = true;
    receiver.setBehaviour(() => (outage ? { kind: 'status', status: 503 } : { kind: 'accept' }));
    // A budget wide enough for a loaded machine: every attempt is answered 503, none goes unanswered.
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url, exportTimeoutMs: 1_000 });
    processor = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 10, maxBatchSize: 10, exportTimeoutMs: 1_000 });
    for (const r of makeRecords(50)) processor.onEmit(r);
    await vi.waitFor(() => expect(exporter.stats().failed.retriesExhausted).toBeGreaterThanOrEqual(50), { timeout: 10_000 }); // every batch failed
    outage = false;
    await receiver.waitForEvents(50, 10_000);
    await vi.waitFor(() => expect(lines(/works again/)).toHaveLength(1));
    expect(lines(/fails \(HTTP 503\)\. The records are kept and sent again/), stderr.lines().join('\n')).toHaveLength(1);
    expect(lines(/works again after [\d.]+ s: \d+ record\(s\) still kept are being sent\./)).toHaveLength(1);
    expect(stderr.lines().join('\n')).not.toMatch(/gave up|see stats\(\)/);
  });

  it('an unexpected status names the endpoint without claiming the records are lost (they are kept)', async () => {
    receiver.setBehaviour(() => ({ kind: 'status', status: 404 }));
    const exporter = new AstralogLogRecordExporter({ apiKey: TEST_KEY, endpoint: receiver.url });
    processor = new AstralogBatchLogRecordProcessor({ exporter, flushIntervalMs: 10 });
    for (const r of makeRecords(3)) processor.onEmit(r);
    await vi.waitFor(() => expect(lines(/answered HTTP 404/)).toHaveLength(1));
    expect(lines(/answered HTTP 404/)[0]).toMatch(/check the endpoint\.\s*$/);
    expect(processor.stats()).toMatchObject({ exported: 0 });
    expect(processor.stats().queued + processor.stats().inFlight).toBe(3);
  });

  it('a close() that drops records says so in one line, without pointing at stats()', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const log = createAstralog({ apiKey: TEST_KEY, endpoint: receiver.url, shutdownTimeoutMs: 200, maxBatchSize: 5 });
    for (let i = 0; i < 30; i++) log.info(`event ${i}`);
    await receiver.waitForRequests(1);
    await log.close();
    const dropped = lines(/dropped \d+ log record/);
    expect(dropped, stderr.lines().join('\n')).toHaveLength(1);
    expect(dropped[0]).toMatch(/dropped 30 log record\(s\): (\d+ shutdown .*, )?\d+ unanswered/);
    expect(dropped[0]).not.toMatch(/stats\(\)|Limits/);
  });
});
