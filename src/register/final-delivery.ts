import { Worker } from 'node:worker_threads';
import type { AstralogClient } from '../client/client.ts';

/**
 * The one time budget of the process's ending: the beforeExit flush, a signal's flush, a crash's
 * or process.exit()'s final delivery all draw from it, so together they take at most
 * shutdownTimeoutMs however the process ends.
 */
export class ExitBudget {
  private readonly totalMs: number;
  private endsAt: number | undefined;

  constructor(totalMs: number) {
    this.totalMs = totalMs;
  }

  /**
   * Milliseconds left; the clock starts at the first call. beforeExit is not always the end (an app
   * may schedule more work and run on): a call long after the last window closed opens a new one.
   */
  remaining(): number {
    const now = Date.now();
    if (this.endsAt === undefined || now > this.endsAt + STALE_AFTER_MS) this.endsAt = now + this.totalMs;
    return Math.max(0, this.endsAt - now);
  }
}

/** An ending happens within moments of its first sign; a window older than this belongs to an earlier one. */
const STALE_AFTER_MS = 5_000;

// Runs in a worker thread: posts each body in turn, then reports how many events arrived.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
const { url, headers, ca, bodies, counts, status, deadline } = workerData;
const request = url.startsWith('https:') ? https.request : http.request;
let delivered = 0;
function finish() {
  Atomics.store(status, 1, delivered);
  Atomics.store(status, 0, 1);
  Atomics.notify(status, 0);
}
function send(i) {
  if (i >= bodies.length || Date.now() >= deadline) return finish();
  const body = Buffer.from(bodies[i]);
  const options = { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, timeout: Math.max(1, deadline - Date.now()) };
  if (ca !== undefined) options.ca = ca;
  const req = request(url, options, (res) => {
    res.resume();
    if (res.statusCode >= 200 && res.statusCode < 300) delivered += counts[i];
    send(i + 1);
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => send(i + 1));
  req.end(body);
}
send(0);
`;

/**
 * Delivers everything the client has not delivered yet, synchronously: a worker thread posts it
 * while this thread waits (Atomics.wait) for at most `timeoutMs`. For the moments when the event
 * loop will not run again: an uncaught exception about to end the process, or process.exit().
 * The client's stats count what arrived as exported, the rest as dropped at shutdown.
 */
export function deliverSynchronously(client: AstralogClient, timeoutMs: number): void {
  const { delivery, settle } = client.prepareFinalDelivery();
  if (delivery.bodies.length === 0 || timeoutMs <= 0) {
    settle(0);
    return;
  }
  const status = new Int32Array(new SharedArrayBuffer(8));
  let delivered = 0;
  try {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ...delivery, status, deadline: Date.now() + timeoutMs },
      stdout: true, // the worker prints nothing of ours; never let it write through a captured console
      stderr: true,
    });
    worker.unref();
    Atomics.wait(status, 0, 0, timeoutMs);
    delivered = Atomics.load(status, 1);
    void worker.terminate();
  } catch {
    // no worker threads (a sandbox): the events are counted as dropped at shutdown
  }
  settle(delivered);
}
