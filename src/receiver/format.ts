import type { AstralogEvent } from './contract.ts';

const COLOURS: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[90m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[41;97m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** One readable line per event: time, level, service, trace id, message, metadata. */
export function formatEvent(event: AstralogEvent, colour: boolean): string {
  const time = event.timestamp.length >= 23 ? event.timestamp.slice(11, 23) : event.timestamp;
  const level = event.level.toUpperCase().padEnd(5);
  const metadata = event.metadata !== undefined && Object.keys(event.metadata).length > 0 ? ' ' + JSON.stringify(event.metadata) : '';
  const trace = event.trace_id !== undefined ? ` trace=${event.trace_id}` : '';
  if (!colour) return `${time} ${level} ${event.service}${trace} ${event.message}${metadata}`;
  const paint = COLOURS[event.level] ?? '';
  return `${DIM}${time}${RESET} ${paint}${level}${RESET} ${event.service}${DIM}${trace}${RESET} ${event.message}${DIM}${metadata}${RESET}`;
}
