import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventLog, StoredEvent } from './event-log.ts';

/** Events per server-sent message when replaying what the receiver kept. */
const BACKLOG_CHUNK = 500;
/** How often counters are pushed at most: they change with every request. */
const STATS_INTERVAL_MS = 250;

/**
 * The live tail as server-sent events: `hello` (where the stream starts), `events`
 * (`{first, events}`: consecutive sequence numbers from `first`, `id:` the last one, so that a
 * reconnecting EventSource resumes with Last-Event-ID) and `stats` (the receiver's counters).
 * A client that stops reading is cut off once `maxBufferBytes` wait for it, so that a stalled tab
 * cannot grow the receiver's memory; its EventSource then reconnects and resumes from the log.
 */
export class LiveStream {
  private readonly clients = new Set<ServerResponse>();
  private pending: { first: number; events: StoredEvent[] } | undefined;
  private flushScheduled = false;
  private statsTimer: NodeJS.Timeout | undefined;
  private cutOffCount = 0;

  private readonly log: EventLog;
  private readonly stats: () => unknown;
  private readonly maxBufferBytes: number;

  constructor(log: EventLog, stats: () => unknown, maxBufferBytes = 8 * 1024 * 1024) {
    this.log = log;
    this.stats = stats;
    this.maxBufferBytes = maxBufferBytes;
  }

  /** Clients cut off for not reading (each resumed on its own when it reconnected). */
  get cutOff(): number {
    return this.cutOffCount;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  open(req: IncomingMessage, res: ServerResponse, since: string | null): void {
    let after = Number(req.headers['last-event-id'] ?? since ?? 0);
    if (!Number.isSafeInteger(after) || after < 0) after = 0;
    // An id beyond what this receiver has seen comes from an earlier run of it: start over.
    const reset = after > this.log.received;
    if (reset) after = 0;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.write('retry: 1000\n\n');
    res.write(message('hello', { reset, after, firstKept: this.log.firstKept, received: this.log.received, maxEvents: this.log.capacity }));
    res.write(message('stats', this.stats()));
    const backlog = this.log.since(after);
    const first = Math.max(after + 1, this.log.firstKept);
    for (let i = 0; i < backlog.length; i += BACKLOG_CHUNK) {
      res.write(eventsMessage(first + i, backlog.slice(i, i + BACKLOG_CHUNK)));
    }
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Events just stored in the log, `first` being the sequence number of the first. */
  published(first: number, events: readonly StoredEvent[]): void {
    if (this.clients.size === 0) return;
    if (this.pending === undefined) this.pending = { first, events: [...events] };
    else this.pending.events.push(...events);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Requests that arrive together go out as one message.
      setImmediate(() => this.flush()).unref();
    }
    this.statsChanged();
  }

  /** Counters changed (an event or a refusal): push them soon, at most every STATS_INTERVAL_MS. */
  statsChanged(): void {
    if (this.clients.size === 0 || this.statsTimer !== undefined) return;
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      this.broadcast(message('stats', this.stats()));
    }, STATS_INTERVAL_MS);
    this.statsTimer.unref();
  }

  /** Ends every open stream (the receiver is closing). */
  close(): void {
    clearTimeout(this.statsTimer);
    this.statsTimer = undefined;
    this.pending = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private flush(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined) return;
    this.broadcast(eventsMessage(pending.first, pending.events));
  }

  private broadcast(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.maxBufferBytes) {
        this.cutOffCount++;
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}

function message(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function eventsMessage(first: number, events: readonly StoredEvent[]): string {
  return `id: ${first + events.length - 1}\n${message('events', { first, events })}`;
}
