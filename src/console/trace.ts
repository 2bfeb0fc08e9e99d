import type { WriteStream } from 'node:tty';
import { formatWithOptions, type InspectOptions } from 'node:util';

const COLORS: InspectOptions = { colors: true };
const NO_COLORS: InspectOptions = {};

export interface Trace {
  /** What console.trace hands to console.error: `Trace: <message>` and the frames (or whatever Error.prepareStackTrace made of them). */
  stack: unknown;
  /** The frames alone, as they are printed, for the event. */
  frames: string | undefined;
}

/**
 * Node's console.trace, up to its console.error call (lib/internal/console/constructor.js, the same in
 * Node 22 and 24): the message formatted for stderr, colours included when Node would use them, and
 * the stack captured from the caller of `above`, so the wrapper that calls this is not in it.
 * Throws what Node's own trace would throw (a throwing inspect.custom of the application's).
 */
export function buildTrace(args: unknown[], stderr: unknown, above: (...args: never[]) => unknown): Trace {
  const message =
    args.length === 1 && typeof args[0] === 'string' ? args[0] : formatWithOptions(shouldColorize(stderr) ? COLORS : NO_COLORS, ...args);
  const err: { name: string; message: string; stack?: unknown } = { name: 'Trace', message };
  Error.captureStackTrace(err, above);
  const stack = err.stack;
  return { stack, frames: framesOf(stack, message) };
}

/**
 * Whether `fn` is Node's own console.trace (the global console's methods are bound functions, which
 * print as native code): only that one is rebuilt; a trace another tool installed before us is wrapped.
 */
export function isNodeTrace(fn: unknown): boolean {
  if (typeof fn !== 'function' || fn.name !== 'trace') return false;
  try {
    return Function.prototype.toString.call(fn).includes('[native code]');
  } catch {
    return false;
  }
}

/** The frames of the caller of `above`, as V8 prints them (for the event of a wrapped trace). */
export function callerFrames(above: (...args: never[]) => unknown): string | undefined {
  const err: { name: string; message: string; stack?: unknown } = { name: 'Trace', message: '' };
  Error.captureStackTrace(err, above);
  return framesOf(err.stack, '');
}

/** Node's lib/internal/util/colors.js shouldColorize, with public APIs. */
function shouldColorize(stream: unknown): boolean {
  // Node asks internal/tty's getColorDepth(), which tty.WriteStream's getColorDepth is (it ignores `this`).
  if (process.env.FORCE_COLOR !== undefined) return process.getBuiltinModule('node:tty').WriteStream.prototype.getColorDepth.call(stream as WriteStream) > 2;
  const tty = stream as { isTTY?: unknown; getColorDepth?: unknown } | null | undefined;
  if (!tty?.isTTY) return false;
  return typeof tty.getColorDepth === 'function' ? (tty.getColorDepth as () => number).call(tty) > 2 : true;
}

/** The stack without its header line(s): `Trace: <message>`, or `Trace` when the message is empty (V8; some prepareStackTrace hooks keep the ": "). */
function framesOf(stack: unknown, message: string): string | undefined {
  if (typeof stack !== 'string') return undefined;
  for (const header of [`Trace: ${message}`, 'Trace']) {
    if (stack === header) return '';
    if (stack.startsWith(`${header}\n`) && (header !== 'Trace' || message === '')) return stack.slice(header.length + 1);
  }
  return stack;
}
