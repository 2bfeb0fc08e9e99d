// How a process ends, with and without @astralog/otel/register, and what Astralog received:
// natural exit, SIGTERM without and with an app handler, an uncaught exception, process.exit(3).
// Run: node scripts/exit-behaviour.ts (uses the built dist/: npm run build first).
import { cleanEnv, makeAppDir, runApp, signalWhenReady } from '../test/support/apps.ts';
import { startReceiver } from '../test/support/receiver.ts';

const KEY = 'ast_sk_live_exitdemo';
const receiver = await startReceiver({ apiKey: KEY });
const apps = makeAppDir();

const scenarios = [
  { name: 'natural exit', source: `console.log('work done');`, signal: false },
  { name: 'SIGTERM, no app handler', source: `console.log('working'); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`, signal: true },
  {
    name: 'SIGTERM, app handler',
    source: `process.on('SIGTERM', () => { console.log('draining'); setTimeout(() => process.exit(0), 100); });
             console.log('working'); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`,
    signal: true,
  },
  { name: 'uncaught exception', source: `console.log('before crash'); setTimeout(() => { throw new Error('boom'); }, 10);`, signal: false },
  { name: 'process.exit(3)', source: `console.log('last words'); process.exit(3);`, signal: false },
];

async function run(file: string, withRegister: boolean, signal: boolean): Promise<string> {
  const args = withRegister ? ['--import', '@astralog/otel/register', file] : [file];
  const env = cleanEnv({ ASTRALOG_API_KEY: KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_SERVICE: 'exit-demo', ASTRALOG_QUIET: 'true' });
  const result = signal ? await signalWhenReady(args, { env }, 'SIGTERM') : await runApp(args, { env });
  return result.signal !== null ? `signal ${result.signal}` : `exit code ${result.code}`;
}

const lines = ['| scenario | without register | with register | events Astralog received (with register) |', '|---|---|---|---|'];
for (const [i, scenario] of scenarios.entries()) {
  const file = apps.write(`app${i}.mjs`, scenario.source);
  const without = await run(file, false, scenario.signal);
  const before = receiver.accepted.length;
  const withRegister = await run(file, true, scenario.signal);
  const events = (receiver.accepted.slice(before) as Array<{ level: string; message: string }>).map((e) => `${e.level} "${e.message}"`);
  lines.push(`| ${scenario.name} | ${without} | ${withRegister} | ${events.join(', ')} |`);
}
process.stdout.write(lines.join('\n') + '\n');
apps.remove();
await receiver.close();
