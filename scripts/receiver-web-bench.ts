// `astralog dev`'s page under load: streams 10,000 events at 1,000 per second into the built CLI
// with the page open in headless Chromium, then 40,000 more, and reports what it cost: the time to
// render a batch (measured by the page), how responsive the page stayed, how far the tail lagged,
// and the receiver's memory with --max-events. Figures only, no pass/fail; nothing leaves loopback.
//   node scripts/receiver-web-bench.ts [--max-events 10000,100000] [--rate 1000]
// Needs Chromium (Debian's `chromium`, or CHROMIUM_PATH) and the build (made when stale).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { webAssets } from '../src/receiver/web/serve.ts';
import { ensureBuilt } from './ensure-built.ts';

const ROOT = join(import.meta.dirname, '..');
const KEY = 'bench-key';
const { values } = parseArgs({ options: { 'max-events': { type: 'string', default: '10000,100000' }, rate: { type: 'string', default: '1000' } } });
const LIMITS = values['max-events'].split(',').map(Number);
const RATE = Number(values.rate);
const BATCH = 50; // events per request, as the SDK's batch processor sends them
const STREAMED = 10_000;
const MORE = 40_000;

interface ReceiverMemory {
  rss: number;
  heapUsed: number;
}

/** The CLI in a child process; on SIGUSR2 it collects garbage and prints its memory (a preload, not part of the CLI). */
async function startCli(maxEvents: number) {
  const preload = `data:text/javascript,process.on('SIGUSR2',()=>{gc();process.stderr.write('memory '+JSON.stringify(process.memoryUsage())+'\\n')})`;
  const child = spawn(process.execPath, ['--expose-gc', '--import', preload, join(ROOT, 'dist', 'cli.js'), 'dev', '--port', '0', '--quiet', '--key', KEY, '--max-events', String(maxEvents)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async (pattern: RegExp, from: number): Promise<RegExpExecArray> => {
    for (;;) {
      const match = pattern.exec(stderr.slice(from));
      if (match) return match;
      if (child.exitCode !== null) throw new Error(`astralog dev exited: ${stderr}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const url = (await waitFor(/Astralog dev receiver on (http:\/\/\S+)\s/, 0))[1]!;
  return {
    url,
    /** Memory after a full garbage collection. */
    async memory(): Promise<ReceiverMemory> {
      const from = stderr.length;
      child.kill('SIGUSR2');
      return JSON.parse((await waitFor(/memory (\{.*\})\n/, from))[1]!) as ReceiverMemory;
    },
    async stop(): Promise<void> {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    },
  };
}

const SERVICES = ['gateway', 'api', 'worker'];
const LEVELS = ['debug', 'info', 'info', 'info', 'warn', 'error'];
function makeEvent(i: number) {
  return {
    timestamp: new Date().toISOString(),
    level: LEVELS[i % LEVELS.length]!,
    message: `request ${i} handled: GET /checkout?item=sku-${i % 997} in ${i % 83} ms`,
    service: SERVICES[i % SERVICES.length]!,
    trace_id: (Math.floor(i / 6) + 1).toString(16).padStart(32, '0'),
    metadata: { span_id: (i + 1).toString(16).padStart(16, '0'), http: { method: 'GET', status: i % 17 === 0 ? 500 : 200 }, user_id: `u-${i % 211}` },
  };
}

/** Sends `count` events from `first` at `rate` per second in batches; returns the rate achieved. */
async function stream(url: string, first: number, count: number, rate: number): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BATCH) {
    const due = started + (sent / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const events = Array.from({ length: Math.min(BATCH, count - sent) }, (_, k) => makeEvent(first + sent + k));
    const res = await fetch(`${url}/v1/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    if (res.status !== 202) throw new Error(`drain answered ${res.status}`);
    await res.arrayBuffer();
  }
  return count / ((performance.now() - started) / 1000);
}

/** Watches the page's main thread: frame gaps and long tasks (installed before the page's own script). */
function watchMainThread(): void {
  const w = globalThis as unknown as Record<string, unknown> & { requestAnimationFrame(cb: (t: number) => void): void };
  const seen = { frames: 0, maxGapMs: 0, gapsOver50: 0, longTasks: 0, longestTaskMs: 0 };
  w.benchMainThread = seen;
  let last = 0;
  const tick = (t: number) => {
    if (last !== 0) {
      const gap = t - last;
      seen.frames++;
      if (gap > seen.maxGapMs) seen.maxGapMs = gap;
      if (gap > 50) seen.gapsOver50++;
    }
    last = t;
    w.requestAnimationFrame(tick);
  };
  w.requestAnimationFrame(tick);
  const Observer = w.PerformanceObserver as new (cb: (list: { getEntries(): Array<{ duration: number }> }) => void) => { observe(o: object): void };
  new Observer((list) => {
    for (const entry of list.getEntries()) {
      seen.longTasks++;
      if (entry.duration > seen.longestTaskMs) seen.longestTaskMs = entry.duration;
    }
  }).observe({ type: 'longtask' });
}

interface PageFigures {
  render: { batches: number; rows: number; maxMs: number; samples: Array<{ rows: number; ms: number; at: number; newest: string }> };
  main: { frames: number; maxGapMs: number; gapsOver50: number; longTasks: number; longestTaskMs: number };
  domRows: number;
  jsHeap: number | undefined;
}
const readPage = (page: Page): Promise<PageFigures> =>
  page.evaluate(() => {
    const w = globalThis as unknown as Record<string, unknown> & { document: { querySelectorAll(s: string): { length: number } }; performance: { memory?: { usedJSHeapSize: number } } };
    return { render: w.astralogRender, main: w.benchMainThread, domRows: w.document.querySelectorAll('#rows .row').length, jsHeap: w.performance.memory?.usedJSHeapSize } as never;
  });

/** Round trips to the page's main thread while events stream: how long a user's input would wait. */
function probeResponsiveness(page: Page): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await page.evaluate(() => 0);
      times.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return times;
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const mb = (x: number) => `${(x / 1048576).toFixed(1)} MB`;

async function main(): Promise<void> {
  const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && p !== '' && existsSync(p));
  if (executablePath === undefined) throw new Error('no Chromium: apt-get install -y chromium, or set CHROMIUM_PATH');
  ensureBuilt();
  // The page as the built CLI serves it (its size, raw and gzipped, for the README).
  const sizing = await startCli(10);
  const served = await Promise.all(webAssets().map(async (a) => ({ path: a.path, body: Buffer.from(await (await fetch(`${sizing.url}${a.path}`)).arrayBuffer()) })));
  await sizing.stop();
  const raw = served.reduce((n, a) => n + a.body.length, 0);
  const gzipped = served.reduce((n, a) => n + gzipSync(a.body).length, 0);
  console.log(`page assets served by dist/cli.js: ${served.map((a) => `${a.path} ${a.body.length} B`).join(', ')}; total ${raw} B (${(raw / 1024).toFixed(1)} KiB), ${gzipped} B gzipped`);
  console.log(`events: ${STREAMED} at ${RATE}/s in batches of ${BATCH}, then ${MORE} more as fast as the receiver takes them; ${Buffer.byteLength(JSON.stringify(makeEvent(1)))} B per event as JSON`);
  const browser = await chromium.launch({ executablePath });
  try {
    for (const maxEvents of LIMITS) {
      const cli = await startCli(maxEvents);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.addInitScript(watchMainThread);
      await page.goto(`${cli.url}/`);
      await page.locator('#conn.live').waitFor();
      const idle = await cli.memory();

      const probe = probeResponsiveness(page);
      const achieved = await stream(cli.url, 0, STREAMED, RATE);
      await page.waitForFunction((n) => (globalThis as unknown as { astralogRender: { rows: number } }).astralogRender.rows > 0 && document.querySelector('#c-received')?.textContent === String(n), STREAMED);
      const roundTrips = await probe.stop();
      const streamed = await readPage(page);
      const afterStream = await cli.memory();

      await stream(cli.url, STREAMED, MORE, 1e9);
      await page.waitForFunction((n) => document.querySelector('#c-received')?.textContent === String(n), STREAMED + MORE);
      const stats = (await (await fetch(`${cli.url}/api/stats`)).json()) as { kept: number; dropped: number };
      const afterMore = await cli.memory();
      const flooded = await readPage(page);

      const samples = streamed.render.samples;
      const perBatch = samples.map((s) => s.ms);
      const lag = samples.map((s) => s.at - Date.parse(s.newest));
      console.log(`\n--max-events ${maxEvents}`);
      console.log(`  streamed ${STREAMED} events at ${achieved.toFixed(0)}/s with the page open`);
      console.log(`  page: ${streamed.render.batches} render batches for ${streamed.render.rows} rows (${(streamed.render.rows / Math.max(1, streamed.render.batches)).toFixed(1)} rows per batch)`);
      console.log(`  time to render a batch: median ${ms(pct(perBatch, 50))}, p95 ${ms(pct(perBatch, 95))}, max ${ms(streamed.render.maxMs)}`);
      console.log(`  tail lag (event sent -> row on screen): median ${ms(pct(lag, 50))}, p95 ${ms(pct(lag, 95))}`);
      console.log(`  main thread: ${streamed.main.frames} frames, longest gap ${ms(streamed.main.maxGapMs)}, ${streamed.main.gapsOver50} gaps over 50 ms, ${streamed.main.longTasks} long tasks (longest ${ms(streamed.main.longestTaskMs)})`);
      console.log(`  input round trip to the page while streaming: median ${ms(pct(roundTrips, 50))}, max ${ms(Math.max(...roundTrips))} (${roundTrips.length} probes)`);
      console.log(`  after ${MORE} more (flood): ${flooded.domRows} rows in the DOM, page JS heap ${flooded.jsHeap === undefined ? 'n/a' : mb(flooded.jsHeap)}, longest frame gap ${ms(flooded.main.maxGapMs)}`);
      console.log(`  receiver kept ${stats.kept}, dropped ${stats.dropped}`);
      console.log(`  receiver memory after GC: idle heap ${mb(idle.heapUsed)} rss ${mb(idle.rss)}; after ${STREAMED}: heap ${mb(afterStream.heapUsed)} rss ${mb(afterStream.rss)}; after ${STREAMED + MORE}: heap ${mb(afterMore.heapUsed)} rss ${mb(afterMore.rss)}`);
      console.log(`  heap held per kept event: ${((afterMore.heapUsed - idle.heapUsed) / stats.kept).toFixed(0)} B`);
      await page.close();
      await cli.stop();
    }
  } finally {
    await browser.close();
  }
}

declare const document: { querySelector(selector: string): { textContent: string | null } | null };
await main();
