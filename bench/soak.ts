// Soak test: steady logging for a while against a FLAPPING receiver (bench/soak-receiver.ts, in its
// own process), watching memory, the accounting and the event loop, then close().
//
//   node bench/soak.ts [--seconds 300] [--rate 5000] [--every N] [--cycle name:ms,…]
//
// The app logs `rate` events/s (every 10 ms, rate/100 events with 5 metadata fields and a seq
// number) through createAstralog with default options (flushIntervalMs shortened). Every second it
// samples RSS, heapUsed, stats() and the event-loop delay p99 of that second. At the end it closes
// the client, asks the receiver what it accepted, prints a table (one row per `--every` seconds;
// default 1 up to 60 s, else 10), a summary with the checks, and one JSON line (the last line).
// --cycle replaces the receiver's cycle (default healthy:4000,503:2000,blackhole:1000,reset:1000,429:1000;
// a phase is healthy, blackhole, reset, resetMidBody or an HTTP status), to tell failure modes apart.
// Exit code 1 when a check fails, 2 on bad arguments.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAstralog, type AstralogStats } from '../src/index.ts';
import { total as droppedTotal } from '../src/processor/drop-report.ts';
import { forkChild } from './receiver-client.ts';
import { phaseAt, type Phase } from './soak-phases.ts';
import type { CountReply } from './soak-receiver.ts';
import { median } from './stats.ts';

// ---- Checks (the thresholds; measured values on a 2-vCPU machine, Node 24, in the comments) ----
/**
 * RSS max over the run minus RSS at the start (MB). The queue is bounded (maxQueueSize 200k,
 * maxQueueBytes 64 MiB estimated): more than this means something grows without bound. Measured:
 * 26-33 MB in 20 s runs; a full queue (~188k of these records) costs ~+95 MB; 300 s runs in which
 * the queue filled and drained reached +149 and +191 MB (RSS stays up after a drain).
 */
const MAX_RSS_GROWTH_MB = 150;
/**
 * Median live memory (heapUsed + external) of the last third of the samples minus that of the
 * middle third (MB): what the process really holds must be flat once warmed up. RSS is not used
 * here: after the queue fills during an outage and drains, RSS keeps freed pages for a while (a
 * 60 s run measured RSS +32 MB last-vs-middle third while heapUsed fell 6.7 MB and external memory
 * was back at its start); RSS is bounded by MAX_RSS_GROWTH_MB instead. A leak shows here.
 */
const MAX_TAIL_GROWTH_MB = 30;
/** close() must end within shutdownTimeoutMs (default 2000 ms) plus slack. Measured: 3-1917 ms. */
const MAX_CLOSE_MS = 2500;
// Also checked, without a threshold: the accounting identity (emitted = exported + dropped +
// queued + inFlight) at every sample, before and after close; and receiver accepted === exported
// (the receiver leaves out `astralog.sdk.dropped` summary events, which are outside the accounting).

const TICK_MS = 10;
const FLUSH_INTERVAL_MS = 200;
/** Receiver answers that arrived after the client hung up are folded within 50 ms. */
const RECEIVER_SETTLE_MS = 200;
const RECEIVER_REPLY_MS = 5000;

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: node bench/soak.ts [--seconds 300] [--rate 5000] [--every N] [--cycle name:ms,…]\n`);
  process.exit(2);
}

interface Args {
  seconds: number;
  rate: number;
  every: number | undefined;
  cycle: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { seconds: 300, rate: 5000, every: undefined, cycle: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (flag === '--cycle') {
      if (raw === undefined || raw === '') usage('--cycle needs a value, e.g. healthy:4000,503:2000,blackhole:1000');
      out.cycle = raw;
      continue;
    }
    if (flag !== '--seconds' && flag !== '--rate' && flag !== '--every') usage(`unknown argument ${arg}`);
    const value = Number(raw);
    if (raw === undefined || !Number.isInteger(value) || value < 1) usage(`${flag} needs a positive integer, got ${String(raw)}`);
    if (flag === '--seconds') out.seconds = value;
    else if (flag === '--rate') out.rate = value;
    else out.every = value;
  }
  if (out.seconds < 3) usage('--seconds must be at least 3 (the checks compare thirds of the run)');
  return out;
}

const { seconds, rate, every: everyArg, cycle } = parseArgs(process.argv.slice(2));
const every = everyArg ?? (seconds <= 60 ? 1 : 10);

// ---- The receiver, in another process ----
interface Ready {
  url: string;
  cycleStart: number;
  phases: Phase[];
}

const receiver = await forkChild<Ready>('soak-receiver.ts', cycle === undefined ? [] : [cycle]);
const ready = receiver.ready;
const phaseNow = (now: number): string => phaseAt(ready.phases, ready.cycleStart, now).name;

// ---- The app ----
const log = createAstralog({ apiKey: 'soak-key', endpoint: ready.url, service: 'soak', flushIntervalMs: FLUSH_INTERVAL_MS });

const MB = 2 ** 20;
const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;
const ms2 = (ns: number): number => Math.round((ns / 1e6) * 100) / 100;
const round2 = (n: number): number => Math.round(n * 100) / 100;
const identity = (s: AstralogStats): boolean => s.emitted === s.exported + droppedTotal(s.dropped) + s.queued + s.inFlight;

interface Sample {
  t: number;
  phase: string;
  rssMB: number;
  heapMB: number;
  /** Memory outside the JS heap held by JS objects (Buffers: request bodies, sockets). */
  externalMB: number;
  emitted: number;
  exported: number;
  dropped: number;
  queued: number;
  retrying: number;
  inFlight: number;
  queuedMB: number;
  /** Event-loop delay p99 and max during the second before this sample, ms. */
  p99Ms: number;
  maxMs: number;
  identity: boolean;
}

const histogram = monitorEventLoopDelay({ resolution: 1 });
const samples: Sample[] = [];

function sample(t: number): Sample {
  const mem = process.memoryUsage();
  const s = log.stats();
  const row: Sample = {
    t,
    phase: phaseNow(Date.now()),
    rssMB: mb(mem.rss),
    heapMB: mb(mem.heapUsed),
    externalMB: mb(mem.external),
    emitted: s.emitted,
    exported: s.exported,
    dropped: droppedTotal(s.dropped),
    queued: s.queued,
    retrying: s.retrying,
    inFlight: s.inFlight,
    queuedMB: mb(s.queuedBytes),
    p99Ms: t === 0 ? 0 : ms2(histogram.percentile(99)),
    maxMs: t === 0 ? 0 : ms2(histogram.max),
    identity: identity(s),
  };
  histogram.reset();
  samples.push(row);
  return row;
}

const total = rate * seconds;
let seq = 0;
function emit(upTo: number): void {
  for (; seq < upTo; seq++) {
    log.info('soak event', { seq, user_id: 'usr_987654', request_id: `req_${seq}`, route: '/api/login', latency_ms: 42, ok: true });
  }
}

process.stdout.write(
  `soak: ${seconds} s at ${rate} events/s (${rate / (1000 / TICK_MS)} every ${TICK_MS} ms) against a flapping receiver, ` +
    `cycle ${ready.phases.map((p) => `${p.name} ${p.ms / 1000}s`).join(' → ')}; flushIntervalMs ${FLUSH_INTERVAL_MS}, other options default\n`,
);

sample(0);
histogram.enable();
const startedAt = performance.now();
await new Promise<void>((resolve) => {
  let nextSample = 1;
  const timer = setInterval(() => {
    const elapsed = performance.now() - startedAt;
    // Events due by now: a steady rate even when a tick comes late.
    emit(Math.min(total, Math.floor((elapsed * rate) / 1000)));
    while (nextSample <= seconds && elapsed >= nextSample * 1000) {
      if (nextSample === seconds) emit(total);
      sample(nextSample++);
    }
    if (nextSample > seconds) {
      clearInterval(timer);
      resolve();
    }
  }, TICK_MS);
});
histogram.disable();

const beforeClose = log.stats();
const closeStarted = performance.now();
await log.close();
const closeMs = Math.round(performance.now() - closeStarted);
const final = log.stats();
await new Promise((r) => setTimeout(r, RECEIVER_SETTLE_MS));
let received: CountReply;
try {
  received = await receiver.ask('count', (m) => (m as { count?: CountReply }).count, RECEIVER_REPLY_MS);
} catch (error) {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  receiver.kill();
  process.exit(1);
}
await receiver.close();

// ---- Report ----
const round1 = (n: number): number => Math.round(n * 10) / 10;

const start = samples[0] as Sample;
const running = samples.slice(1);
const end = samples[samples.length - 1] as Sample;
const middleThird = running.filter((s) => s.t > seconds / 3 && s.t <= (2 * seconds) / 3);
const lastThird = running.filter((s) => s.t > (2 * seconds) / 3);
const rssMiddleMB = round2(median(middleThird.map((s) => s.rssMB)));
const rssLastMB = round2(median(lastThird.map((s) => s.rssMB)));
const heapMiddleMB = round2(median(middleThird.map((s) => s.heapMB)));
const heapLastMB = round2(median(lastThird.map((s) => s.heapMB)));
const liveMiddleMB = round2(median(middleThird.map((s) => s.heapMB + s.externalMB)));
const liveLastMB = round2(median(lastThird.map((s) => s.heapMB + s.externalMB)));
const rssMaxMB = Math.max(...samples.map((s) => s.rssMB));
const heapMaxMB = Math.max(...samples.map((s) => s.heapMB));
const p99s = running.map((s) => s.p99Ms);
const identityAlways = samples.every((s) => s.identity) && identity(beforeClose) && identity(final);
/** Longest run of seconds in which `exported` did not move (the receiver is healthy 4 s of every 9). */
let longestStallS = 0;
for (let i = 1, run = 0; i < samples.length; i++) {
  run = (samples[i] as Sample).exported === (samples[i - 1] as Sample).exported ? run + 1 : 0;
  longestStallS = Math.max(longestStallS, run);
}
const deliveredPct = round1((100 * final.exported) / Math.max(1, final.emitted));
const pad = (v: unknown, n: number): string => String(v).padStart(n);

// One row per `every` seconds: memory and loop delay at their worst in the window, counters at its end.
const header = ['t s', 'phase', 'rss MB', 'heap MB', 'ext MB', 'emitted', 'exported', 'dropped', 'queued', 'retrying', 'inFlight', 'queue MB', 'loop p99', 'loop max'];
const widths = [5, 9, 7, 8, 7, 9, 9, 8, 7, 8, 8, 8, 8, 8];
const line = (cells: unknown[]): string => cells.map((c, i) => pad(c, widths[i] ?? 8)).join(' ');
const out: string[] = [];
out.push('');
out.push(`samples (${every === 1 ? 'each second' : `each ${every} s: memory and loop delay max over the window, the rest at its end`}):`);
out.push(line(header));
out.push(line([0, start.phase, start.rssMB, start.heapMB, start.externalMB, start.emitted, start.exported, start.dropped, start.queued, start.retrying, start.inFlight, start.queuedMB, '-', '-']));
for (let from = 0; from < running.length; from += every) {
  const window = running.slice(from, from + every);
  const last = window[window.length - 1] as Sample;
  out.push(
    line([
      last.t,
      every === 1 ? last.phase : '',
      Math.max(...window.map((s) => s.rssMB)),
      Math.max(...window.map((s) => s.heapMB)),
      Math.max(...window.map((s) => s.externalMB)),
      last.emitted,
      last.exported,
      last.dropped,
      last.queued,
      last.retrying,
      last.inFlight,
      last.queuedMB,
      Math.max(...window.map((s) => s.p99Ms)),
      Math.max(...window.map((s) => s.maxMs)),
    ]) + (window.every((s) => s.identity) ? '' : '  IDENTITY BROKEN'),
  );
}

const checks = [
  {
    name: 'identity',
    ok: identityAlways,
    detail: `emitted = exported + dropped + queued + inFlight at all ${samples.length} samples, before and after close`,
  },
  {
    name: 'accepted === exported',
    ok: received.accepted === final.exported,
    detail: `receiver accepted ${received.accepted} (sdk.dropped summaries excluded), client exported ${final.exported}`,
  },
  {
    name: 'rss growth',
    ok: rssMaxMB - start.rssMB <= MAX_RSS_GROWTH_MB,
    detail: `max ${rssMaxMB} MB - start ${start.rssMB} MB = ${round1(rssMaxMB - start.rssMB)} MB <= ${MAX_RSS_GROWTH_MB} MB`,
  },
  {
    name: 'live memory flat',
    ok: liveLastMB - liveMiddleMB <= MAX_TAIL_GROWTH_MB,
    detail: `heapUsed+external: median last third ${liveLastMB} MB - median middle third ${liveMiddleMB} MB = ${round1(liveLastMB - liveMiddleMB)} MB <= ${MAX_TAIL_GROWTH_MB} MB (RSS: ${rssLastMB} - ${rssMiddleMB} MB)`,
  },
  { name: 'close time', ok: closeMs <= MAX_CLOSE_MS, detail: `close() took ${closeMs} ms <= ${MAX_CLOSE_MS} ms` },
];
const failed = checks.filter((c) => !c.ok);

const nonZeroDrops = Object.fromEntries(Object.entries(final.dropped).filter(([, n]) => n > 0));
out.push('');
out.push('summary:');
out.push(`  events      emitted ${final.emitted} (expected ${total}), exported ${final.exported}, dropped ${droppedTotal(final.dropped)} ${JSON.stringify(nonZeroDrops)}, queued ${final.queued}, inFlight ${final.inFlight} after close`);
out.push(`  delivery    ${deliveredPct}% of emitted exported; longest stretch with no export progress: ${longestStallS} s`);
out.push(`  before close queued ${beforeClose.queued} (retrying ${beforeClose.retrying}), inFlight ${beforeClose.inFlight}, receiver phase at close: ${end.phase}`);
out.push(
  `  receiver    accepted ${received.accepted} (distinct seq ${received.distinct}, duplicates ${received.duplicates}, without seq ${received.withoutSeq}); ` +
    `sdk.dropped summaries ${received.summaries} (dropped_total ${received.summaryDroppedTotal}); requests ${JSON.stringify(received.requests)}`,
);
out.push(
  `  exporter    requests ${final.exporter.requests}, retries ${final.exporter.retries}, failed ${JSON.stringify(Object.fromEntries(Object.entries(final.exporter.failed).filter(([, n]) => n > 0)))}`,
);
out.push(`  rss MB      start ${start.rssMB}, end ${end.rssMB}, max ${rssMaxMB}; median middle third ${rssMiddleMB}, last third ${rssLastMB}`);
out.push(`  heap MB     start ${start.heapMB}, end ${end.heapMB}, max ${heapMaxMB}; median middle third ${heapMiddleMB}, last third ${heapLastMB}`);
out.push(`  external MB start ${start.externalMB}, end ${end.externalMB}, max ${Math.max(...samples.map((s) => s.externalMB))}`);
out.push(`  loop delay  p99 per second: max ${Math.max(...p99s)} ms, median ${round2(median(p99s))} ms; worst single delay ${Math.max(...running.map((s) => s.maxMs))} ms`);
out.push(`  close()     ${closeMs} ms`);
out.push('checks:');
for (const c of checks) out.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
out.push(failed.length === 0 ? 'soak: all checks passed' : `soak: ${failed.length} check(s) FAILED: ${failed.map((c) => c.name).join(', ')}`);
process.stdout.write(out.join('\n') + '\n');

process.stdout.write(
  JSON.stringify({
    scenario: 'soak',
    seconds,
    rate,
    cycle: ready.phases.map((p) => `${p.name}:${p.ms}`).join(','),
    emitted: final.emitted,
    exported: final.exported,
    dropped: final.dropped,
    droppedTotal: droppedTotal(final.dropped),
    queued: final.queued,
    inFlight: final.inFlight,
    accepted: received.accepted,
    deliveredPct,
    longestStallS,
    receiverDuplicates: received.duplicates,
    receiverSummaries: received.summaries,
    receiverRequests: received.requests,
    identityHolds: identityAlways,
    rssMB: { start: start.rssMB, end: end.rssMB, max: rssMaxMB },
    heapUsedMB: { start: start.heapMB, end: end.heapMB, max: heapMaxMB },
    flatness: {
      rssMiddleThirdMB: rssMiddleMB,
      rssLastThirdMB: rssLastMB,
      rssLastMinusMiddleMB: round1(rssLastMB - rssMiddleMB),
      heapLastMinusMiddleMB: round1(heapLastMB - heapMiddleMB),
      liveLastMinusMiddleMB: round1(liveLastMB - liveMiddleMB),
    },
    loopDelayP99Ms: { max: Math.max(...p99s), median: round2(median(p99s)) },
    closeMs,
    checks: Object.fromEntries(checks.map((c) => [c.name, c.ok])),
    ok: failed.length === 0,
  }) + '\n',
);
process.exit(failed.length === 0 ? 0 : 1);
