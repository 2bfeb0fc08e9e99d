import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runApp } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { DIST_CJS, DIST_ESM } from '../support/spawn.ts';

// These run the built package in a real process, as a user's app would load it.

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterEach(async () => {
  await receiver.close();
});

const RECORD = `{
  hrTime: [1790000000, 0], hrTimeObserved: [1790000000, 0], body: 'from a child process',
  resource: { attributes: { 'service.name': 'child' } }, instrumentationScope: { name: 't' },
  attributes: { pid: process.pid }, droppedAttributesCount: 0,
}`;

// Prints how long the process lived after its last piece of work: idle sockets or timers that
// kept it alive would show up as seconds here (the transport closes idle sockets after 4 s, the server after 5 s).
const LINGER = `
let lastWork = Date.now();
process.on('exit', () => process.stdout.write(JSON.stringify({ lingeredMs: Date.now() - lastWork }) + '\\n'));
`;

describe.each([
  ['ESM', DIST_ESM, (path: string) => `import { AstralogLogRecordExporter } from ${JSON.stringify(path)};`],
  ['CommonJS', DIST_CJS, (path: string) => `const { AstralogLogRecordExporter } = require(${JSON.stringify(path)});`],
])('the built package (%s)', (_format, path, load) => {
  const inputType = _format === 'ESM' ? 'module' : 'commonjs';

  it('delivers and then lets the process exit at once', async () => {
    const script = `${load(path)}${LINGER}
      const exporter = new AstralogLogRecordExporter({ apiKey: ${JSON.stringify(TEST_KEY)}, endpoint: ${JSON.stringify(receiver.url)} });
      exporter.export([${RECORD}], (result) => { lastWork = Date.now(); process.stdout.write(JSON.stringify({ code: result.code }) + '\\n'); });`;
    const run = await runApp(['--input-type=' + inputType, '-e', script], { env: cleanEnv() });
    expect(run.stderr).toBe('');
    const [result, linger] = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(result).toEqual({ code: 0 });
    expect(linger!.lingeredMs).toBeLessThan(1000);
    expect(receiver.accepted).toMatchObject([{ message: 'from a child process', service: 'child' }]);
  });

  it('exits promptly after shutdown() with an export stuck on a black hole', async () => {
    receiver.setBehaviour(() => ({ kind: 'blackhole' }));
    const script = `${load(path)}${LINGER}
      const exporter = new AstralogLogRecordExporter({ apiKey: ${JSON.stringify(TEST_KEY)}, endpoint: ${JSON.stringify(receiver.url)},
        exportTimeoutMs: 60000, shutdownTimeoutMs: 300 });
      exporter.export([${RECORD}], (result) => process.stdout.write(JSON.stringify({ code: result.code }) + '\\n'));
      setTimeout(async () => { const t = Date.now(); await exporter.shutdown(); lastWork = Date.now();
        process.stdout.write(JSON.stringify({ shutdownMs: Date.now() - t }) + '\\n'); }, 200);`;
    const run = await runApp(['--input-type=' + inputType, '-e', script], { env: cleanEnv() });
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines[0]).toEqual({ code: 1 });
    expect(lines[1]!.shutdownMs).toBeLessThan(300 + 1000);
    expect(lines[2]!.lingeredMs).toBeLessThan(1000);
    expect(run.code).toBe(0);
  });
});
