import { createServer, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { createAstralog, type Astralog } from '../../src/index.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { expectAccounted, tick } from '../support/processing.ts';

// What the client holds stays within maxQueueBytes whatever the shape of the values: here every
// call's metadata refers to one shared object of about 120 KB once encoded, and the endpoint never
// reads (its requests pile up in the kernel, then in the exporter). Before byte accounting of
// encoded bodies, 25,000 such calls held gigabytes of encoded buffers while stats() said 9 MB.

const MAX_QUEUE_BYTES = 16 * 1024 * 1024;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

let client: Astralog | undefined;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await client?.close();
  client = undefined;
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Accepts connections and never reads them. */
async function blackHole(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.pause();
    socket.on('error', () => undefined);
  });
  const port = await listenOnLoopback(server);
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${port}`;
}

/** About 120 KB once encoded: 400 entries of 300 characters. */
function sharedContext(): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < 400; i++) context[`field_${i}`] = `${i}`.padEnd(300, 'x');
  return context;
}

describe('memory bound with large shared nested values and an endpoint that never reads', () => {
  it('holds at most maxQueueBytes (encoded bodies ahead and in flight included), drops and counts the rest', async () => {
    // Batches of 50 (6 MB encoded): exports start and hang, holding their bodies.
    client = createAstralog({ apiKey: TEST_KEY, endpoint: await blackHole(), maxQueueBytes: MAX_QUEUE_BYTES, maxBatchSize: 50, flushIntervalMs: 20, exportTimeoutMs: 60_000 });
    const context = sharedContext();
    const before = process.memoryUsage().arrayBuffers;
    let peakHeld = 0;
    let peakInFlight = 0;
    let peakBuffers = 0;
    for (let i = 0; i < 25_000; i += 500) {
      for (let j = i; j < i + 500; j++) client.info('with context', { seq: j, context });
      await tick(0); // exports start, encode and write
      const s = client.stats();
      peakHeld = Math.max(peakHeld, s.queuedBytes + s.inFlightBytes);
      peakInFlight = Math.max(peakInFlight, s.inFlightBytes);
      gc(); // what is live, not what awaits collection
      peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers - before);
    }
    const stats = client.stats();
    if (process.env.SHOW) console.log(JSON.stringify({ peakHeldMB: peakHeld / MiB, peakInFlightMB: peakInFlight / MiB, peakBuffersMB: peakBuffers / MiB, stats }));
    expectAccounted(stats);
    expect(stats.dropped.queueFull).toBeGreaterThan(20_000); // nearly all: each call stands for ~120 KB
    expect(stats.exporter.requests).toBeGreaterThan(0);
    expect(peakInFlight).toBeGreaterThan(MAX_QUEUE_BYTES / 4); // exports under way held much of it
    // One batch may overshoot the bound by what its estimates missed: a few of its events.
    expect(peakHeld).toBeLessThanOrEqual(MAX_QUEUE_BYTES * 1.1);
    // Buffers really held: the bound, the encode-buffer pool (8 MiB), the copy of the request being
    // sent of each export whose batch is split (maxRequestBytes, 4 MiB), and sockets' write queues.
    expect(peakBuffers).toBeLessThan(MAX_QUEUE_BYTES * 2 + 8 * MiB);
  });
});
