import type { AstralogClient } from '../client/client.ts';
import { deliverSynchronously, type ExitBudget } from './final-delivery.ts';

/**
 * Delivers an uncaught exception (unhandled rejections included, which Node raises as one) as a
 * `fatal` event. It listens on uncaughtExceptionMonitor, which leaves Node's handling untouched:
 * - when nothing handles the error, the process is about to end, so the events are delivered
 *   synchronously within the exit budget; then Node prints the error and exits with code 1 as usual;
 * - when the app handles it (its own uncaughtException listener), the process lives on and the
 *   event goes out with the next batch.
 */
export function installCrashHandlers(client: AstralogClient, budget: ExitBudget): void {
  process.on('uncaughtExceptionMonitor', (error: unknown, origin: string) => {
    try {
      client.event('fatal', describe(error), { error, origin });
      const handled = process.listenerCount('uncaughtException') > 0 || process.hasUncaughtExceptionCaptureCallback();
      if (!handled) deliverSynchronously(client, budget.remaining());
    } catch {
      // recording must never change how the crash goes
    }
  });
}

function describe(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return `Uncaught ${typeof error === 'string' ? error : String(error)}`;
  } catch {
    return 'Uncaught exception';
  }
}
