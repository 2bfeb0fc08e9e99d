import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, runApp, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

let apps: AppDir;
let receiver: Receiver;
beforeAll(async () => {
  apps = makeAppDir();
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterAll(async () => {
  apps.remove();
  await receiver.close();
});

// The primary is started with --import @astralog/otel/register; cluster.fork() passes execArgv on,
// so each worker loads register too. One worker ends with process.exit(), the other by
// disconnecting (a natural exit): both must deliver everything, once, and say who they are.
const PRIMARY = `
import cluster from 'node:cluster';
const EVENTS = 50;
if (cluster.isPrimary) {
  console.log('primary up');
  const workers = [cluster.fork({ HOW: 'exit' }), cluster.fork({ HOW: 'disconnect' })];
  let exited = 0;
  for (const w of workers) w.on('exit', (code) => { console.log('worker ' + w.process.pid + ' exited ' + code); if (++exited === workers.length) console.log('primary done'); });
} else {
  for (let i = 0; i < EVENTS; i++) console.log('worker event ' + i);
  if (process.env.HOW === 'exit') process.exit(0);
  else cluster.worker.disconnect();
}
`;

describe('cluster workers', () => {
  it('each worker ships its own events exactly once, identifiable by process, with one setup each', async () => {
    const primary = apps.write('primary.mjs', PRIMARY);
    const result = await runApp(['--import', '@astralog/otel/register', primary], {
      env: cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_SERVICE: 'clustered' }),
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(0);
    expect(result.stderr.match(/sending logs to/g)).toHaveLength(3); // primary + 2 workers, one setup each

    type Event = { message: string; metadata: Record<string, unknown> };
    const events = receiver.accepted as Event[];
    const workerEvents = events.filter((e) => e.message.startsWith('worker event'));
    const byPid = new Map<unknown, string[]>();
    for (const e of workerEvents) byPid.set(e.metadata['process.pid'], [...(byPid.get(e.metadata['process.pid']) ?? []), e.message]);
    expect(byPid.size).toBe(2);
    for (const [pid, messages] of byPid) {
      expect(typeof pid).toBe('number');
      expect(messages).toHaveLength(50);
      expect(new Set(messages).size).toBe(50); // exactly once
    }
    const workerIds = new Set(workerEvents.map((e) => e.metadata['cluster.worker_id']));
    expect(workerIds).toEqual(new Set([1, 2]));
    // The primary's own lines carry no worker identity, and it ran to the end.
    const primaryLines = events.filter((e) => e.message.startsWith('primary'));
    expect(primaryLines.map((e) => e.message)).toEqual(['primary up', 'primary done']);
    expect(primaryLines.every((e) => !('process.pid' in e.metadata))).toBe(true);
  });
});
