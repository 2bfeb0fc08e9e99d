import type { AstralogClient } from '../client/client.ts';
import { deliverSynchronously, type ExitBudget } from './final-delivery.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Delivers what is queued when the process ends, never keeping it alive past the exit budget and
 * never changing how it ends:
 * - natural exit (beforeExit): flush, once per batch of new records;
 * - process.exit() (the loop will not run again): a synchronous last delivery;
 * - SIGTERM/SIGINT: flush; then, if the app has no handler of its own, end the process by that
 *   same signal, exactly as Node would have; if it has one, leave the rest to the app.
 *   A second signal during the flush ends the wait at once.
 */
export function installExitHandlers(client: AstralogClient, budget: ExitBudget): void {
  let flushedThrough = -1;
  process.on('beforeExit', () => {
    const { emitted, queued, inFlight } = client.stats();
    // beforeExit comes again after our flush empties the loop: flush only when there is new work.
    if (emitted === flushedThrough || queued + inFlight === 0) return;
    flushedThrough = emitted;
    void client.flush(budget.remaining());
  });

  process.on('exit', () => {
    const { queued, inFlight } = client.stats();
    if (queued + inFlight > 0) deliverSynchronously(client, budget.remaining());
  });

  for (const signal of SIGNALS) {
    let flushing = false;
    // Asked each time: the app may add or remove its own handler while we flush.
    const appHandles = (): boolean => process.listeners(signal).some((listener) => listener !== onSignal);
    const onSignal = (): void => {
      if (flushing) {
        if (appHandles()) return;
        client.abandonPending(); // second signal: stop waiting
        reraise(signal, onSignal);
        return;
      }
      flushing = true;
      void client.flush(budget.remaining()).then(() => {
        flushing = false;
        // The app's own handler decides what happens next (it may drain and keep running).
        if (appHandles()) return;
        client.abandonPending(); // what the flush could not send is lost with the process: said so
        reraise(signal, onSignal);
      });
    };
    process.on(signal, onSignal);
  }
}

/**
 * With no listener left, the signal gets its default action: the process ends by it. Except as PID 1
 * (a container without an init process), where the kernel ignores a signal's default action: the
 * process would run on until `docker stop` kills it 10 s later. It ends with 128 + the signal's
 * number instead, the status a shell reports for a process ended by that signal.
 */
function reraise(signal: NodeJS.Signals, listener: () => void): void {
  process.removeListener(signal, listener);
  process.kill(process.pid, signal);
  if (process.pid === 1) process.exit(128 + (process.getBuiltinModule('node:os').constants.signals[signal] ?? 0));
}
