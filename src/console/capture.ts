import { format } from 'node:util';
import type { Astralog } from '../client/client.ts';
import { PREFIX } from '../register/stderr.ts';

const METHODS = [
  ['log', 'info'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
  ['debug', 'debug'],
  ['trace', 'debug'],
] as const;

/** Lines that are this SDK's own diagnostics: never fed back in (they may reach console through a diag logger). */
const OWN_PREFIX = PREFIX.trimEnd();

/**
 * Sends console.log/info/warn/error/debug/trace to Astralog as info/info/warn/error/debug/debug,
 * with util.format's message; the original output is still printed, first. For the life of the
 * process (register's console capture has no off switch).
 */
export function captureConsole(client: Astralog): void {
  let capturing = false;
  for (const [method, level] of METHODS) {
    const original = console[method] as (...args: unknown[]) => void;
    const log = client[level].bind(client);
    const traced = method === 'trace';
    console[method] = function captured(this: unknown, ...args: unknown[]): void {
      original.apply(this, args);
      if (capturing) return; // a console call made while capturing one (formatting a getter, …)
      capturing = true;
      try {
        const message = format(...args);
        if (!message.includes(OWN_PREFIX)) {
          log(message, traced ? { stack: new Error().stack?.split('\n').slice(2).join('\n') } : undefined);
        }
      } catch {
        // a console call never fails because of us
      } finally {
        capturing = false;
      }
    };
  }
}
