import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownLines } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import {
  allSeqs,
  expectFaultInvariants,
  runFaultChild,
  sortedSeqs,
  startTcpProxy,
  type TcpProxy,
} from '../support/faults.ts';
import { tick } from '../support/processing.ts';
import { everyNth, startReceiver, type Behaviour, type ReceivedRequest, type Receiver } from '../support/receiver.ts';

// Each case runs the built client (dist/) in a child process against the fault-injecting
// loopback receiver, and checks the invariants of expectFaultInvariants plus its own.

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterEach(async () => {
  await receiver.close();
});

const ACCEPT: Behaviour = { kind: 'accept' };
const seqsOf = (req: ReceivedRequest): number[] => req.events.map((e) => (e as { metadata?: { seq?: number } }).metadata?.seq ?? -1);

describe('fault injection: the client in a child process', () => {
  it('black hole: close() is bounded by shutdownTimeoutMs, every event counted as dropped (shutdown, or unanswered when its request was on the wire)', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const n = 20;
    // A long export budget, so that only the shutdown deadline can end the stuck exports.
    const shutdownTimeoutMs = 1000;
    const run = await runFaultChild({ endpoint: receiver.url, n, perTick: 5, tickMs: 50, options: { exportTimeoutMs: 5000, shutdownTimeoutMs } });
    expectFaultInvariants(run, receiver.accepted, n);
    expect(run.closeMs).toBeLessThan(shutdownTimeoutMs + 400);
    expect(receiver.requests.length).toBeGreaterThan(0); // the black hole was really hit
    expect(receiver.accepted).toEqual([]);
    expect(run.stats?.exported).toBe(0);
    const dropped = run.stats?.dropped;
    expect(dropped).toMatchObject({ queueFull: 0, tooLarge: 0, exportFailed: 0, rejected: 0, invalid: 0 });
    expect((dropped?.shutdown ?? 0) + (dropped?.unanswered ?? 0)).toBe(n);
    // every request that reached the black hole counts its events as unanswered, not resent
    const sent = receiver.requests.reduce((sum, r) => sum + r.events.length, 0);
    expect(dropped?.unanswered).toBe(sent);
  });

  it('connection reset mid-body on every third request: all delivered exactly once', async () => {
    receiver.setBehaviour(everyNth(3, { kind: 'resetMidBody' }));
    const n = 60;
    // One export at a time, so that a reset request is always followed by an accepted one: with
    // concurrent exports a batch can draw several resets in a row, and if that happens during
    // close() its records are dropped (see the close() case below), which would make this flaky.
    const run = await runFaultChild({ endpoint: receiver.url, n, perTick: 10, tickMs: 50, options: { maxConcurrentExports: 1 } });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(receiver.requests.filter((r) => r.status === 'reset').length).toBeGreaterThan(0);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
  });

  it('slow drip answers (status at once, body one byte every 20 ms): delivered', async () => {
    receiver.setBehaviour(() => ({ kind: 'drip', ms: 20, then: ACCEPT }));
    const n = 40;
    const run = await runFaultChild({ endpoint: receiver.url, n, perTick: 10, tickMs: 50 });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
  });

  it('429 storm without Retry-After for ~1 s, then accept: all delivered once', async () => {
    // The storm starts with the first request (not when the child is spawned, which a loaded machine
    // may take longer than a second to start) and refuses at least 3 requests, however slow they come.
    let stormStart: number | undefined;
    let refused = 0;
    receiver.setBehaviour(() => {
      stormStart ??= Date.now();
      if (Date.now() - stormStart < 1000 || refused < 3) {
        refused++;
        return { kind: 'status', status: 429 };
      }
      return ACCEPT;
    });
    const n = 30;
    const run = await runFaultChild({ endpoint: receiver.url, n, perTick: 3, tickMs: 150 });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(receiver.requests.filter((r) => r.status === 429).length).toBeGreaterThan(1);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
  });

  it('429 with Retry-After: 1 on the first 3 requests: delivered, each retry waited the second', async () => {
    const tooMany: Behaviour = { kind: 'status', status: 429, headers: { 'retry-after': '1' } };
    receiver.setBehaviour((_req, index) => (index < 3 ? tooMany : ACCEPT));
    const n = 20;
    // One batch, and an export budget long enough for three one-second waits.
    const run = await runFaultChild({ endpoint: receiver.url, n, options: { maxBatchSize: 100, exportTimeoutMs: 4500, shutdownTimeoutMs: 5000 } });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
    expect(receiver.requests.map((r) => r.status)).toEqual([429, 429, 429, 202]);
    const gaps = receiver.requests.slice(1).map((r, i) => r.receivedAt - (receiver.requests[i] as ReceivedRequest).receivedAt);
    for (const gap of gaps) expect(gap, `gaps between requests: ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(950);
  });

  it('429 with a Retry-After longer than the export budget: the records are resent only after it', async () => {
    // exportTimeoutMs 1000 < Retry-After 2 s: the exporter gives up at once, and the processor keeps
    // the records for another attempt. That attempt must still respect the server's Retry-After.
    const tooMany: Behaviour = { kind: 'status', status: 429, headers: { 'retry-after': '2' } };
    receiver.setBehaviour((_req, index) => (index < 1 ? tooMany : ACCEPT));
    const n = 10;
    const run = await runFaultChild({ endpoint: receiver.url, n, perTick: 5, tickMs: 1200, options: { maxBatchSize: 100, shutdownTimeoutMs: 3000 } });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
    const [first, second] = receiver.requests;
    expect(first?.status).toBe(429);
    const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(gap, `the request after a 429 with Retry-After: 2 came ${gap} ms later; statuses ${receiver.requests.map((r) => r.status).join(',')}`).toBeGreaterThanOrEqual(1950);
  });

  it('5xx flapping (500/502/503/504 alternating with accept): all delivered once', async () => {
    const errors = [500, 502, 503, 504];
    receiver.setBehaviour((_req, index) => (index % 2 === 0 ? { kind: 'status', status: errors[(index / 2) % 4] as number } : ACCEPT));
    const n = 40;
    // One export at a time, so that every failed request is followed by an accepted one (as in the
    // reset case: with concurrent exports a batch in flight at close() could draw errors twice).
    const run = await runFaultChild({ endpoint: receiver.url, n, perTick: 10, tickMs: 50, options: { maxConcurrentExports: 1 } });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(new Set(receiver.requests.map((r) => r.status))).toEqual(new Set([500, 502, 503, 504, 202]));
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
  });

  it('400 on one poisoned event (seq 13): everything else delivered once, rejected counted', async () => {
    receiver.setBehaviour((req) => (seqsOf(req).includes(13) ? { kind: 'status', status: 400, body: '{"error":"poisoned"}' } : ACCEPT));
    const n = 40;
    const run = await runFaultChild({ endpoint: receiver.url, n, perTick: 10, tickMs: 50 });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(sortedSeqs(report)).toEqual(allSeqs(n, [13]));
    expect(run.stats?.dropped.rejected).toBe(1);
    expect(run.stats?.exported).toBe(n - 1);
    // The request that carried seq 13 alone was answered 400 (the batch was split down to it).
    expect(receiver.requests.some((r) => r.status === 400 && seqsOf(r).length === 1 && seqsOf(r)[0] === 13)).toBe(true);
    for (const summary of report.summaries) expect(summary).toMatchObject({ rejected: 1 });
  });

  it('401 until the key is fixed (after two refusals): all delivered once after recovery, the refusal said once, the key never printed', async () => {
    receiver.setApiKey('wrong-key');
    const n = 40;
    const running = runFaultChild({ endpoint: receiver.url, n, perTick: 4, tickMs: 100 });
    // Two refused requests, not one: the client must have been refused again and still said it once.
    await receiver.waitForRequests(2);
    const fixedAt = Date.now();
    receiver.setApiKey(TEST_KEY);
    const run = await running;
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
    expect(receiver.requests.some((r) => r.status === 401)).toBe(true);
    expect(receiver.requests.filter((r) => r.status === 401).every((r) => r.receivedAt <= fixedAt + 50)).toBe(true);
    const refusals = ownLines(run.stderr).filter((l) => l.includes('refused the API key'));
    expect(refusals, run.stderr).toHaveLength(1);
    expect(run.stderr).not.toContain(TEST_KEY);
    expect(run.stdout).not.toContain(TEST_KEY);
  });

  it('a 503 outage at close() shorter than shutdownTimeoutMs: close() keeps trying within its budget', async () => {
    // exportTimeoutMs 500 < the 700 ms outage < shutdownTimeoutMs 2500. The export started by
    // close() fails after its 500 ms; 2 s of the shutdown budget are left and the receiver accepts
    // again 200 ms later, so the events can still be delivered before close() must give up.
    let outageUntil: number | undefined;
    receiver.setBehaviour(() => {
      outageUntil ??= Date.now() + 700;
      return Date.now() < outageUntil ? { kind: 'status', status: 503 } : ACCEPT;
    });
    const n = 10;
    const shutdownTimeoutMs = 2500;
    const run = await runFaultChild({ endpoint: receiver.url, n, options: { exportTimeoutMs: 500, shutdownTimeoutMs, maxBatchSize: 100 } });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(run.closeMs).toBeLessThan(shutdownTimeoutMs + 400);
    expect(sortedSeqs(report), `dropped ${JSON.stringify(run.stats?.dropped)} after close() took ${run.closeMs} ms; statuses ${receiver.requests.map((r) => r.status).join(',')}`).toEqual(allSeqs(n));
  });

  it('413 for any request of more than 10 events: batches split, all delivered once', async () => {
    receiver.setBehaviour((req) => (req.events.length > 10 ? { kind: 'status', status: 413 } : ACCEPT));
    const n = 50;
    const run = await runFaultChild({ endpoint: receiver.url, n, options: { maxBatchSize: 100 } });
    const report = expectFaultInvariants(run, receiver.accepted, n);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
    expect(run.stats?.dropped.tooLarge).toBe(0);
    expect(receiver.requests.some((r) => r.status === 413)).toBe(true);
    for (const r of receiver.requests) if (r.status === 202) expect(r.events.length).toBeLessThanOrEqual(10);
  });

  describe('the receiver restarting mid-run', () => {
    let proxy: TcpProxy | undefined;
    let second: Receiver | undefined;
    afterEach(async () => {
      await proxy?.close();
      await second?.close();
      proxy = undefined;
      second = undefined;
    });

    it('goes away after about half the events, comes back on the same port 300 ms later: all delivered', async () => {
      const first = receiver;
      proxy = await startTcpProxy(first.port);
      const n = 60;
      const running = runFaultChild({ endpoint: proxy.url, n, perTick: 5, tickMs: 100 });
      await first.waitForEvents(n / 2, 10_000);
      await tick(10);
      const cutAt = Date.now();
      await proxy.down();
      await first.close();
      await tick(300);
      second = await startReceiver({ apiKey: TEST_KEY });
      proxy.setTarget(second.port);
      await proxy.up();
      const run = await running;

      // A request the old receiver accepted just before the cut, whose 202 the cut kept from the
      // client, went unanswered: its events may be accepted twice (once resent), and are counted so.
      const accepted = [...first.accepted, ...second.accepted];
      const report = expectFaultInvariants(run, accepted, n);
      const lastMoment = first.requests.filter((r) => r.status === 202 && r.receivedAt >= cutAt - 50).flatMap(seqsOf);
      for (const seq of report.duplicates) expect(lastMoment, `seq ${seq} accepted twice, not at the cut`).toContain(seq);
      expect(sortedSeqs(report)).toEqual(allSeqs(n));
      expect(first.accepted.length).toBeGreaterThanOrEqual(n / 2);
      expect(second.accepted.length).toBeGreaterThan(0);
    });
  });
});
