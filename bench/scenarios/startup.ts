// Start-up: a hello-world that logs one line to a reachable receiver, run as a fresh process, as
// plain node, under --import @astralog/otel/register, and under NodeSDK with its OTLP log exporter
// (the stock way to ship that line), interleaved. Wall time from spawn to exit, and the process's
// CPU time (every thread). argv: <runs>.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { forkReceiver } from '../receiver-client.ts';
import { median } from '../stats.ts';

const runs = Number(process.argv[2] ?? 10);
const here = join(import.meta.dirname, '..', 'startup');
const astralog = await forkReceiver('accept');
const otlp = await forkReceiver('otlp');
const base = { PATH: process.env.PATH ?? '' };

const CONTENDERS = {
  plain: { args: [join(here, 'hello.mjs')], env: base },
  register: {
    args: ['--import', '@astralog/otel/register', join(here, 'hello.mjs')],
    env: { ...base, ASTRALOG_API_KEY: 'bench-key', ASTRALOG_ENDPOINT: astralog.url, ASTRALOG_QUIET: 'true' },
  },
  nodesdk: {
    args: ['--import', join(here, 'nodesdk-register.mjs'), join(here, 'hello.mjs')],
    env: { ...base, OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' },
  },
} as const;
type Name = keyof typeof CONTENDERS;

function runOnce(name: Name): Promise<{ wallMs: number; cpuMs: number }> {
  const { args, env } = CONTENDERS[name];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // cwd: the repository, so @astralog/otel/register resolves as in an app that installed it.
    const child = spawn(process.execPath, ['--import', join(here, 'cpu.mjs'), ...args], { cwd: join(here, '..', '..'), env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const cpu = /cpu-us (\d+)/.exec(stderr);
      if (code !== 0 || cpu === null) return reject(new Error(`${name} exited with ${code}: ${stderr}`));
      resolve({ wallMs, cpuMs: Number(cpu[1]) / 1000 });
    });
  });
}

const results = new Map<Name, Array<{ wallMs: number; cpuMs: number }>>([['plain', []], ['register', []], ['nodesdk', []]]);
for (let r = 0; r < runs + 1; r++) {
  for (const name of results.keys()) {
    const result = await runOnce(name);
    if (r > 0) results.get(name)?.push(result); // the first round warms the file system cache
  }
}
const delivered = { register: await astralog.count(), nodesdk: await otlp.count() };
await astralog.close();
await otlp.close();
const summary = Object.fromEntries(
  [...results].map(([name, list]) => [name, { wallMs: median(list.map((x) => x.wallMs)), cpuMs: median(list.map((x) => x.cpuMs)), runs: list.map((x) => Math.round(x.cpuMs)) }]),
);
process.stdout.write(JSON.stringify({ runs, delivered, expected: runs + 1, ...summary }) + '\n');
