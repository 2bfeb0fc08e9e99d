import { diag, DiagLogLevel } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AstralogBatchLogRecordProcessor, AstralogConfigError, AstralogLogRecordExporter, createAstralog } from '../../src/index.ts';
import { captureStderr, exportOnce } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { makeRecords } from '../support/records.ts';

// A key no test output may contain, nor its distinctive middle.
const SECRET = 'ast_sk_live_S3CR3T7VALUE0123456789';
const FRAGMENT = 'S3CR3T7VALUE';

let receiver: Receiver;
let stderr: ReturnType<typeof captureStderr>;
const diagnostics: string[] = [];

beforeEach(async () => {
  receiver = await startReceiver({ apiKey: SECRET });
  stderr = captureStderr();
  diagnostics.length = 0;
  const capture = (...args: unknown[]) => diagnostics.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(' '));
  diag.setLogger({ error: capture, warn: capture, info: capture, debug: capture, verbose: capture }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
});
afterEach(async () => {
  diag.disable();
  stderr.restore();
  await receiver.close();
});

function everythingSaid(extra: unknown[]): string {
  return [...stderr.lines(), ...diagnostics, ...extra.map((e) => (e instanceof Error ? `${e.name} ${e.message} ${e.stack} ${JSON.stringify(e)}` : JSON.stringify(e)))].join('\n');
}

describe('the API key never leaks', () => {
  it('not through errors, diagnostics, stats or events, whatever the transport does', async () => {
    const results: unknown[] = [];
    // 1. Refused connections, retried until the budget ends.
    const closedUrl = receiver.url;
    await receiver.close();
    const refused = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: closedUrl, exportTimeoutMs: 300 });
    results.push((await exportOnce(refused, makeRecords(2))).error, refused.stats());
    await refused.shutdown();

    // 2. A black hole: timeouts.  3. 401.  4. 5xx until the budget ends.
    receiver = await startReceiver({ apiKey: SECRET });
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const hole = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: receiver.url, exportTimeoutMs: 200 });
    results.push((await exportOnce(hole, makeRecords(2))).error, hole.stats());
    await hole.shutdown();
    receiver.setBehaviour(() => ({ kind: 'accept' }));
    receiver.setApiKey('another-key');
    const refusedKey = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: receiver.url });
    results.push((await exportOnce(refusedKey, makeRecords(2))).error, refusedKey.stats());
    await refusedKey.shutdown();
    receiver.setApiKey(SECRET);
    receiver.setBehaviour(() => ({ kind: 'status', status: 503 }));
    const flapping = new AstralogLogRecordExporter({ apiKey: SECRET, endpoint: receiver.url, exportTimeoutMs: 400 });
    const processor = new AstralogBatchLogRecordProcessor({ exporter: flapping, maxQueueSize: 5, maxBatchSize: 5 });
    for (const r of makeRecords(8)) processor.onEmit(r);
    await processor.forceFlush();
    results.push(processor.stats(), flapping.stats());
    await processor.shutdown();

    // 5. The client, with the key as metadata under sensitive names and a drop summary sent.
    receiver.setBehaviour(() => ({ kind: 'accept' }));
    const acceptedBefore = receiver.accepted.length;
    const log = createAstralog({ apiKey: SECRET, endpoint: receiver.url, maxQueueSize: 3, maxBatchSize: 3 });
    for (let i = 0; i < 5; i++) log.info('call', { authorization: `Bearer ${SECRET}`, api_key: SECRET, headers: { 'x-api-key': SECRET } });
    await log.flush();
    await receiver.waitForEvents(acceptedBefore + 4); // the 3 kept calls and the summary of the 2 dropped
    await log.close();
    results.push(log.stats(), receiver.accepted);

    // 6. Bad keys at construction.
    for (const apiKey of [`${SECRET}\r\nX-Injected: 1`, `${SECRET} `, `${SECRET}é`]) {
      try {
        new AstralogLogRecordExporter({ apiKey, endpoint: receiver.url });
      } catch (error) {
        expect(error).toBeInstanceOf(AstralogConfigError);
        results.push(error);
      }
    }

    const said = everythingSaid(results);
    expect(said.length).toBeGreaterThan(1000); // we did capture a lot: the check below is not vacuous
    expect(said).toContain('refused the API key');
    expect(said).not.toContain(FRAGMENT);
    expect(receiver.accepted.length).toBeGreaterThan(0);
    expect(JSON.stringify(receiver.accepted)).toContain('[REDACTED]');
  });
});
