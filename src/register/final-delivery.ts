import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstralogClient } from '../client/client.ts';
import type { SyncDelivery } from '../exporter/exporter.ts';
import { writeStderr } from '../ground/stderr.ts';

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

/** What the worker thread (final-delivery-worker.ts) is given. */
export interface FinalDeliveryJob {
  delivery: SyncDelivery;
  /** [0]: 1 once the worker is done; [1]: events delivered. */
  status: Int32Array;
  deadline: number;
}

/** The worker's built file, next to this one: .js or .cjs in dist/, .ts in the sources. */
function workerFile(): URL {
  const here = import.meta.url;
  return new URL(`./final-delivery-worker${extname(fileURLToPath(here))}`, here);
}

/**
 * The worker's environment: register must not set itself up again inside it (a --require in
 * NODE_OPTIONS would load it there even without execArgv; OTEL_SDK_DISABLED keeps any copy quiet).
 */
function workerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OTEL_SDK_DISABLED: 'true' };
  delete env.NODE_OPTIONS;
  return env;
}

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
  const file = workerFile();
  // A worker that cannot load fails after this thread has started waiting for it: the whole budget
  // would go by, for nothing. Bundling the package leaves its worker file behind.
  if (!existsSync(fileURLToPath(file))) {
    writeStderr(`no last delivery at exit: ${fileURLToPath(file)} is missing (a bundled @astralog/otel must keep its dist/ files beside it).`);
    settle(0);
    return;
  }
  const status = new Int32Array(new SharedArrayBuffer(8));
  let delivered = 0;
  try {
    const job: FinalDeliveryJob = { delivery, status, deadline: Date.now() + timeoutMs };
    // Loaded here: node:worker_threads costs several ms at start-up, and most processes never need it.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(file, {
      workerData: job,
      execArgv: [], // no --require/--import of the app's (register among them)
      env: workerEnv(),
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
