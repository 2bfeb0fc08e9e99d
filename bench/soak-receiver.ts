// A FLAPPING loopback receiver in its own process (forked by bench/soak.ts), speaking the Astralog
// contract through test/support/receiver.ts. Its answer depends on the time since it started,
// cycling through PHASES (healthy, 503, black hole, connection resets, 429 + Retry-After), so a
// long run meets every failure mode many times. argv[2]: another cycle, e.g. 'healthy:4000,503:2000'.
//
// IPC: sends { ready, url, cycleStart, phases } once listening; answers 'count' with a CountReply
// (events are folded into counters every 50 ms, so memory stays flat however long the run);
// 'close' closes the server and exits. Exits by itself when the parent goes away.
import { startReceiver, type Behaviour } from '../test/support/receiver.ts';
import { phaseAt, type Phase } from './soak-phases.ts';

/** What 'count' answers. */
export interface CountReply {
  /** Events of 2xx answers, `astralog.sdk.dropped` summary events excluded (they are outside the accounting). */
  accepted: number;
  /** Of `accepted`: distinct seq numbers, and events whose seq had already been accepted (duplicates). */
  distinct: number;
  duplicates: number;
  /** Accepted events without a numeric metadata.seq (should be 0). */
  withoutSeq: number;
  /** `astralog.sdk.dropped` summary events accepted, and the sum of their dropped_total. */
  summaries: number;
  summaryDroppedTotal: number;
  /** POST /v1/drain requests by what the receiver answered ('202', '503', 'blackhole', 'reset', '429', …). */
  requests: Record<string, number>;
}

/** The default cycle (9 s); argv[2] may give another as `name:ms,…` (see behaviourOf). */
const DEFAULT_CYCLE = 'healthy:4000,503:2000,blackhole:1000,reset:1000,429:1000';

/** healthy | blackhole | reset | resetMidBody | an HTTP status (429 comes with Retry-After: 1). */
function behaviourOf(name: string): Behaviour {
  if (name === 'healthy') return { kind: 'accept' };
  if (name === 'blackhole' || name === 'reset' || name === 'resetMidBody') return { kind: name };
  const status = Number(name);
  if (Number.isInteger(status) && status >= 200 && status <= 599) {
    return { kind: 'status', status, ...(status === 429 ? { headers: { 'retry-after': '1' } } : {}) };
  }
  throw new Error(`soak receiver: unknown phase ${JSON.stringify(name)} (healthy, blackhole, reset, resetMidBody or an HTTP status)`);
}

const PHASES: ReadonlyArray<Phase & { behaviour: Behaviour }> = (process.argv[2] ?? DEFAULT_CYCLE).split(',').map((part) => {
  const [name = '', ms = ''] = part.trim().split(':');
  const duration = Number(ms);
  if (!Number.isInteger(duration) || duration < 1) throw new Error(`soak receiver: bad phase ${JSON.stringify(part)} (expected name:ms)`);
  return { name, ms: duration, behaviour: behaviourOf(name) };
});

const cycleStart = Date.now();

const receiver = await startReceiver({
  apiKey: 'soak-key',
  // Consulted once the whole body is in: the phase at that moment decides the answer.
  behaviour: () => phaseAt(PHASES, cycleStart, Date.now()).behaviour,
});

const counts: CountReply = { accepted: 0, distinct: 0, duplicates: 0, withoutSeq: 0, summaries: 0, summaryDroppedTotal: 0, requests: {} };
/** One byte per seq number seen (grown on demand): 5000 events/s for an hour is 18 MB. */
let seen = new Uint8Array(1 << 20);

function markSeq(seq: number): void {
  if (seq >= seen.length) {
    let size = seen.length;
    while (size <= seq) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(seen);
    seen = grown;
  }
  if (seen[seq] === 1) counts.duplicates++;
  else {
    seen[seq] = 1;
    counts.distinct++;
  }
}

/** Folds what the receiver holds into the counters and forgets it. */
function fold(): void {
  for (const event of receiver.accepted) {
    const e = event as { message?: unknown; metadata?: Record<string, unknown> };
    if (e.message === 'astralog.sdk.dropped') {
      counts.summaries++;
      const total = e.metadata?.['dropped_total'];
      if (typeof total === 'number') counts.summaryDroppedTotal += total;
      continue;
    }
    counts.accepted++;
    const seq = e.metadata?.['seq'];
    if (typeof seq === 'number' && Number.isInteger(seq) && seq >= 0) markSeq(seq);
    else counts.withoutSeq++;
  }
  for (const r of receiver.requests) {
    const key = String(r.status);
    counts.requests[key] = (counts.requests[key] ?? 0) + 1;
  }
  receiver.accepted.length = 0;
  receiver.requests.length = 0;
}
setInterval(fold, 50).unref();

process.on('message', (message) => {
  if (message === 'count') {
    fold();
    process.send?.({ count: { ...counts, requests: { ...counts.requests } } });
  }
  if (message === 'close') void receiver.close().then(() => process.exit(0));
});
// The soak process died or was killed: do not outlive it.
process.on('disconnect', () => void receiver.close().then(() => process.exit(0)));

process.send?.({ ready: true, url: receiver.url, cycleStart, phases: PHASES.map(({ name, ms }) => ({ name, ms })) });
