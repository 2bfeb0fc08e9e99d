import type { Astralog, Metadata } from '../client/client.ts';
import { DEFAULT_REDACT_KEYS } from '../config/exporter-config.ts';
import { PREFIX } from '../ground/stderr.ts';
import { consoleMetadata } from './metadata.ts';
import { formatRedacted } from './redacted-format.ts';
import { KeyRedactor } from '../exporter/redact.ts';
import { buildTrace, callerFrames, isNodeTrace } from './trace.ts';

const METHODS = [
  ['log', 'info'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
  ['debug', 'debug'],
] as const;

/** Lines that are this SDK's own diagnostics: never fed back in (they may reach console through a diag logger). */
const OWN_PREFIX = PREFIX.trimEnd();

type Log = (message: unknown, metadata?: Metadata) => void;

/**
 * Sends console.log/info/warn/error/debug/trace to Astralog as info/info/warn/error/debug/debug; the
 * original output is printed first, unchanged. The event's message is util.format's, with the values
 * of sensitive keys (`redactKeys`, as the exporter decides) redacted; see consoleMetadata for its
 * metadata. For the life of the process (register's console capture has no off switch).
 */
export function captureConsole(client: Astralog, redactKeys: readonly string[] = DEFAULT_REDACT_KEYS): void {
  const keys = new KeyRedactor(redactKeys);
  const target = console; // Node's console methods are bound to it: `this` does not matter
  let capturing = false; // a console call made while printing or capturing one is not an event

  const send = (log: Log, args: unknown[], stack: string | undefined): void => {
    capturing = true;
    try {
      const message = formatRedacted(args, keys);
      if (!message.includes(OWN_PREFIX)) log(message, consoleMetadata(args, stack));
    } catch {
      // a console call never fails because of us
    } finally {
      capturing = false;
    }
  };

  for (const [method, level] of METHODS) {
    const original = target[method] as (...args: unknown[]) => void;
    const log = client[level].bind(client);
    target[method] = keepName(function captured(this: unknown, ...args: unknown[]): void {
      original.apply(this, args);
      if (!capturing) send(log, args, undefined);
    }, original);
  }

  // console.trace, rebuilt as Node builds it, so that the printed stack starts at the caller (calling
  // Node's own would add this wrapper's frame) and its console.error is part of this call, not an event.
  const debug = client.debug.bind(client);
  /** Prints as part of a trace call (what it writes through console is no event of its own); true when that call is inside another captured one. */
  const printUncaptured = (print: () => void): boolean => {
    const outer = capturing;
    capturing = true;
    try {
      print();
    } finally {
      capturing = outer;
    }
    return outer;
  };
  const originalTrace = target.trace as (...args: unknown[]) => void;
  if (!isNodeTrace(originalTrace)) {
    // Another tool's console.trace: keep it, and still make one event of the call.
    target.trace = keepName(function trace(this: unknown, ...args: unknown[]): void {
      if (!printUncaptured(() => originalTrace.apply(this, args))) send(debug, args, callerFrames(trace));
    }, originalTrace);
    return;
  }
  target.trace = keepName(function trace(...args: unknown[]): void {
    const built = buildTrace(args, (target as { _stderr?: unknown })._stderr, trace);
    if (!printUncaptured(() => target.error(built.stack))) send(debug, args, built.frames);
  }, originalTrace);
}

/** console.log.name stays 'log' (and so on), as without us. */
function keepName<F extends (...args: never[]) => unknown>(wrapper: F, original: unknown): F {
  try {
    const name: unknown = (original as { name?: unknown } | null)?.name;
    if (typeof name === 'string') Object.defineProperty(wrapper, 'name', { value: name, configurable: true });
  } catch {
    // a name is cosmetic
  }
  return wrapper;
}
