import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevReceiver, type DevReceiver, type DevReceiverOptions } from '../../src/dev.ts';
import { cleanEnv, spawnNode, type SpawnedNode } from '../support/apps.ts';
import { ROOT } from '../support/spawn.ts';
import { browserRequired, chromiumPath, noBrowserMessage } from './chromium.ts';

// `astralog dev`'s page in headless Chromium, against a real receiver on 127.0.0.1: what a user
// sees. Every wait is for a condition on the page, never for a length of time.
const KEY = 'browser-test-key-5b2f1c';

// The little of the DOM that the functions run in the page use (the project type-checks without the DOM library).
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};
const ARTIFACTS = join(ROOT, 'node_modules', '.cache', 'astralog-browser');
const SCREENSHOT = join(ROOT, 'docs', 'trace-view.png');

let browser: Browser | undefined;
let context: BrowserContext | undefined;
let receiver: DevReceiver | undefined;
let pageErrors: string[] = [];

beforeAll(async () => {
  if (chromiumPath === undefined) {
    if (browserRequired) throw new Error(noBrowserMessage());
    return;
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: chromiumPath });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
  await receiver?.close();
  receiver = undefined;
  expect(pageErrors).toEqual([]);
  pageErrors = [];
});

/** A receiver, and the page open on it with its live stream connected. */
async function openPage(options: Partial<DevReceiverOptions> = {}): Promise<Page> {
  receiver = await startDevReceiver({ apiKey: KEY, port: 0, print: false, ...options });
  context = await browser!.newContext({ viewport: { width: 1180, height: 560 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${receiver.url}/`);
  await page.locator('#conn.live').waitFor();
  return page;
}

async function post(events: unknown[], headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${receiver!.url}/v1/drain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ events }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Milliseconds, with the sub-millisecond digits of an RFC 3339 UTC time. */
const timeOf = (ts: string) => Date.parse(ts.slice(0, 19) + 'Z') + Number('0' + (/\.\d+/.exec(ts)?.[0] ?? '')) * 1000;
const at = (ms: number) => new Date(Date.UTC(2026, 10, 28, 10, 0, 0, ms)).toISOString();

/** The messages of the rows shown (newest first), once there are `count` of them. */
async function messagesWhen(page: Page, count: number, rows = '#rows .row'): Promise<string[]> {
  await page.waitForFunction(([selector, n]) => document.querySelectorAll(selector as string).length === n, [rows, count] as const);
  return page.$$eval(rows, (found) => found.map((row) => row.querySelector('.msg')!.textContent!));
}

/** Waits until an element's text is `text`. */
async function textBecomes(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(([s, t]) => document.querySelector(s as string)?.textContent === t, [selector, text] as const);
}

describe.skipIf(chromiumPath === undefined && !browserRequired)('astralog dev: the web page in headless Chromium', () => {
  it('shows events live, newest first, with time, level colour, service, trace link and expandable metadata; counts them', async () => {
    const page = await openPage();
    expect(await page.locator('#empty').isVisible()).toBe(true);
    expect(await post([{ timestamp: at(5), level: 'info', message: 'order received', service: 'checkout', trace_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', metadata: { order_id: 'o-1', items: 3 } }])).toBe(202);
    expect(await messagesWhen(page, 1)).toEqual(['order received']);
    const row = page.locator('#rows .row').first();
    expect(await row.locator('.time').textContent()).toBe('10:00:00.005');
    expect(await row.locator('.lvl').getAttribute('class')).toBe('lvl lvl-info');
    expect(await row.locator('.svc').textContent()).toBe('checkout');
    expect(await row.locator('.trace a').getAttribute('href')).toBe('#trace=a1b2c3d4e5f60718293a4b5c6d7e8f90');
    await textBecomes(page, '#c-received', '1');

    await row.locator('.msg').click();
    const meta = JSON.parse((await row.locator('.meta').textContent())!);
    expect(meta).toMatchObject({ service: 'checkout', trace_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', metadata: { order_id: 'o-1', items: 3 } });
    await row.press('Enter'); // the keyboard folds it again
    expect(await row.locator('.meta').count()).toBe(0);

    expect(await post([{ timestamp: at(9), level: 'error', message: 'payment failed', service: 'payments' }])).toBe(202);
    expect(await messagesWhen(page, 2)).toEqual(['payment failed', 'order received']);
    expect(await page.locator('#rows .row').first().locator('.lvl').getAttribute('class')).toBe('lvl lvl-error');
    await textBecomes(page, '#c-received', '2');
    expect(await page.locator('#empty').isVisible()).toBe(false);

    // An open trace view follows its trace: a later event of it, from another service, joins it.
    await page.locator('#rows .row .trace a').first().click();
    await page.waitForFunction(() => document.querySelectorAll('#trace-rows .row').length === 1);
    expect(await post([{ timestamp: at(7), level: 'info', message: 'order stored', service: 'orders', trace_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' }])).toBe(202);
    await page.waitForFunction(() => document.querySelectorAll('#trace-rows .row').length === 2);
    expect(await page.locator('#timeline .lane .name').allTextContents()).toEqual(['checkout', 'orders']);
  });

  it('renders HTML-looking event content as text: no element is created and no script runs', async () => {
    const page = await openPage();
    const message = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    const evil = {
      timestamp: at(1),
      level: '<i>warn</i>',
      message,
      service: '<b>svc</b>',
      trace_id: '"><img src=x onerror="window.__pwned = 3">',
      metadata: { html: '<img src=x onerror="window.__pwned = 4">' },
    };
    expect(await post([evil, { ...evil, timestamp: at(2), message: '<u>second</u>', service: 'plain' }])).toBe(202);
    expect(await messagesWhen(page, 2)).toEqual(['<u>second</u>', message]);
    const row = page.locator('#rows .row').nth(1);
    expect(await row.locator('.svc').textContent()).toBe('<b>svc</b>');
    expect(await row.locator('.lvl').textContent()).toBe('<i>warn</i>');
    await row.locator('.msg').click();
    expect(await row.locator('.meta').textContent()).toContain('"html": "<img src=x onerror=\\"window.__pwned = 4\\">"');
    expect(await page.locator('#f-service option', { hasText: '<b>svc</b>' }).count()).toBe(1);

    // The trace view draws the same content (lanes, marks, rows): as text too.
    await row.locator('.trace a').click();
    await page.waitForFunction(() => document.querySelectorAll('#trace-rows .row').length === 2);
    expect(await page.locator('#timeline .lane .name').allTextContents()).toEqual(['<b>svc</b>', 'plain']);
    expect(await page.locator('#trace-id').textContent()).toBe(evil.trace_id);

    const injected = await page.evaluate(() => ({
      elements: document.querySelectorAll('body img, body b, body i, body u, #rows script, #trace-view script').length,
      pwned: (globalThis as { __pwned?: number }).__pwned,
    }));
    expect(injected).toEqual({ elements: 0, pwned: undefined });
  });

  it('filters by service, level, text (message or metadata) and trace_id, live events included', async () => {
    const page = await openPage();
    const events = [
      { timestamp: at(1), level: 'debug', message: 'cache warm', service: 'api' },
      { timestamp: at(2), level: 'info', message: 'checkout started', service: 'gateway', trace_id: 'trace-one' },
      { timestamp: at(3), level: 'info', message: 'price looked up', service: 'api', trace_id: 'trace-one', metadata: { sku: 'needle-42' } },
      { timestamp: at(4), level: 'warn', message: 'slow upstream', service: 'gateway', trace_id: 'trace-two' },
      { timestamp: at(5), level: 'error', message: 'no price for broken', service: 'api', trace_id: 'trace-two' },
      { timestamp: at(6), level: 'info', message: 'needle in the message', service: 'worker' },
    ];
    expect(await post(events)).toBe(202);
    await messagesWhen(page, 6);

    await page.selectOption('#f-service', 'api');
    expect(await messagesWhen(page, 3)).toEqual(['no price for broken', 'price looked up', 'cache warm']);
    // A live event of another service stays out; one of the chosen service comes in.
    expect(await post([{ timestamp: at(7), level: 'info', message: 'gateway live', service: 'gateway' }, { timestamp: at(8), level: 'info', message: 'api live', service: 'api' }])).toBe(202);
    expect(await messagesWhen(page, 4)).toEqual(['api live', 'no price for broken', 'price looked up', 'cache warm']);
    await page.selectOption('#f-service', '');

    await page.selectOption('#f-level', '13');
    expect(await messagesWhen(page, 2)).toEqual(['no price for broken', 'slow upstream']);
    await page.selectOption('#f-level', '');

    await page.fill('#f-text', 'NEEDLE');
    expect(await messagesWhen(page, 2)).toEqual(['needle in the message', 'price looked up']);
    await page.fill('#f-text', '');

    await page.fill('#f-trace', 'trace-one');
    expect(await messagesWhen(page, 2)).toEqual(['price looked up', 'checkout started']);
    await page.selectOption('#f-service', 'gateway');
    expect(await messagesWhen(page, 1)).toEqual(['checkout started']);
    await page.selectOption('#f-service', '');
    await page.fill('#f-trace', '');
    expect(await messagesWhen(page, 8)).toHaveLength(8);
  });

  it('pauses and resumes the tail, and counts events and refused requests (with the reason, never a key) and dropped ones', async () => {
    const page = await openPage({ maxEvents: 3 });
    await page.click('#pause');
    expect(await page.locator('#pause').textContent()).toBe('Resume');
    expect(await post([{ timestamp: at(1), level: 'info', message: 'while paused', service: 'svc' }])).toBe(202);
    await page.waitForFunction(() => document.querySelector('#shown')!.textContent!.includes('paused, 1 new'));
    expect(await page.locator('#rows .row').count()).toBe(0);
    await page.click('#pause');
    expect(await messagesWhen(page, 1)).toEqual(['while paused']);

    expect(await post([1, 2, 3, 4].map((i) => ({ timestamp: at(1 + i), level: 'info', message: `more ${i}`, service: 'svc' })))).toBe(202);
    await textBecomes(page, '#c-received', '5');
    await textBecomes(page, '#c-kept', '3');
    expect(await page.locator('#c-max').textContent()).toBe('3');
    await textBecomes(page, '#c-dropped', '2');

    const wrongKey = 'sk-wrong-0000-very-secret';
    expect(await post([{ timestamp: at(1), level: 'info', message: 'x', service: 'svc' }], { authorization: `Bearer ${wrongKey}` })).toBe(401);
    expect(await post([{ timestamp: at(1), level: 'info', service: 'svc' }])).toBe(400);
    await textBecomes(page, '#c-refused', '2');
    await page.click('#c-refused');
    const reasons = await page.locator('#refusals li').allTextContents();
    expect(reasons.map((r) => r.replace(/ \(last .*\)$/, '')).sort()).toEqual(['400 × 1 — events[i].message is missing', '401 × 1 — unauthorized']);
    const html = await page.content();
    expect(html).not.toContain(KEY);
    expect(html).not.toContain(wrongKey);
  });

  it("the trace view of the demo's traffic: both services under one trace id, in time order, a lane per service (screenshot)", async () => {
    const page = await openPage();
    const dir = join(ROOT, 'examples', 'traced-services');
    const env = (service: string, extra: Record<string, string> = {}) => cleanEnv({ ASTRALOG_ENDPOINT: receiver!.url, ASTRALOG_API_KEY: KEY, ASTRALOG_SERVICE: service, ...extra });
    const start = async (file: string, environment: NodeJS.ProcessEnv, ready: RegExp): Promise<[SpawnedNode, string]> => {
      const node = spawnNode(['--import', '@astralog/otel/register', '--require', join(dir, 'tracing.cjs'), join(dir, file)], { env: environment, timeoutMs: 30_000 });
      await node.waitForLine(ready, 15_000);
      return [node, ready.exec(node.stdout())![1]!];
    };
    // As `npm run demo` does (examples/run.mjs): the api, the gateway in front of it, three checkouts.
    const [api, apiPort] = await start('api.cjs', env('api'), /api ready on port (\d+)/);
    const [gateway, gatewayPort] = await start('gateway.cjs', env('gateway', { API_URL: `http://127.0.0.1:${apiPort}` }), /gateway ready on port (\d+)/);
    for (const item of ['book', 'lamp', 'broken']) await (await fetch(`http://127.0.0.1:${gatewayPort}/checkout?item=${item}`)).text();
    api.child.kill('SIGTERM');
    gateway.child.kill('SIGTERM');
    expect((await Promise.all([api.result, gateway.result])).map((r) => r.code)).toEqual([0, 0]);

    // Register flushed both services at exit: take the fullest trace with events of both.
    const byTrace = Map.groupBy(receiver!.events().filter((e) => e.trace_id !== undefined), (e) => e.trace_id!);
    const traceId = [...byTrace].filter(([, events]) => new Set(events.map((e) => e.service)).size === 2).sort((a, b) => b[1].length - a[1].length)[0]?.[0];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const traceEvents = byTrace.get(traceId!)!;
    await messagesWhen(page, receiver!.events().length);

    await page.locator(`#rows .row .trace a[href="#trace=${traceId}"]`).first().click();
    await page.waitForFunction((n) => document.querySelectorAll('#trace-rows .row').length === n, traceEvents.length);
    expect(await page.locator('#trace-id').textContent()).toBe(traceId);
    expect((await page.locator('#timeline .lane').evaluateAll((lanes) => lanes.map((l) => (l as unknown as { dataset: Record<string, string> }).dataset.service))).sort()).toEqual(['api', 'gateway']);
    const shown = await page.locator('#trace-rows .row').evaluateAll((rows) => rows.map((r) => (r as unknown as { _ev: { timestamp: string; service: string; trace_id: string } })._ev));
    expect(shown.every((e) => e.trace_id === traceId)).toBe(true);
    expect(new Set(shown.map((e) => e.service))).toEqual(new Set(['api', 'gateway']));
    const times = shown.map((e) => timeOf(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(await page.locator('#trace-summary').textContent()).toContain(`${traceEvents.length} events from 2 services`);
    expect(page.url()).toBe(`${receiver!.url}/#trace=${traceId}`);

    const bottom = await page.locator('#trace-rows').evaluate((rows) => (rows as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect().bottom);
    await page.screenshot({ path: join(ARTIFACTS, 'trace-view.png'), clip: { x: 0, y: 0, width: 1180, height: Math.min(560, Math.ceil(bottom) + 16) } });
    // The README's picture is replaced on request only, so a test run leaves the work tree clean.
    if (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(SCREENSHOT)) {
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      copyFileSync(join(ARTIFACTS, 'trace-view.png'), SCREENSHOT);
    }

    // Back to the tail (the browser's back button works too: the view is in the URL).
    await page.goBack();
    await page.locator('#tail-view').waitFor();
    expect(await page.locator('#trace-view').isHidden()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'live-tail.png') });
  });
});
