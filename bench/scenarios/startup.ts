// Start-up: a hello-world that logs one line to a reachable receiver, run as a fresh process, as
// plain node, under --import @astralog/otel/register, and under NodeSDK with its OTLP log exporter
// (the stock way to ship that line), interleaved. Wall time from spawn to exit, and the process's
// CPU time (every thread). argv: <runs>.
//
// The hello-world is an app of its own (a package.json naming it and its one dependency), in a
// temporary folder whose node_modules holds only @astralog/otel (a link to this repository): register
// sees what it would in a user's app, not the repository's development packages (NodeSDK among
// them). NodeSDK's contender runs from bench/startup.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkReceiver } from '../receiver-client.ts';
import { median } from '../stats.ts';

const runs = Number(process.argv[2] ?? 10);
const here = join(import.meta.dirname, '..', 'startup');
const astralog = await forkReceiver('accept');
const otlp = await forkReceiver('otlp');
const base = { PATH: process.env.PATH ?? '' };
const repository = join(here, '..', '..');
const app = mkdtempSync(join(tmpdir(), 'astralog-startup-'));
mkdirSync(join(app, 'node_modules', '@astralog'), { recursive: true });
symlinkSync(repository, join(app, 'node_modules', '@astralog', 'otel'), 'dir');
copyFileSync(join(here, 'hello.mjs'), join(app, 'hello.mjs'));
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'hello', private: true, dependencies: { '@astralog/otel': '*' } }));

const CONTENDERS = {
  plain: { args: [join(app, 'hello.mjs')], env: base, cwd: app },
  register: {
    args: ['--import', '@astralog/otel/register', join(app, 'hello.mjs')],
    cwd: app,
    env: { ...base, ASTRALOG_API_KEY: 'bench-key', ASTRALOG_ENDPOINT: astralog.url, ASTRALOG_QUIET: 'true' },
  },
  nodesdk: {
    args: ['--import', join(here, 'nodesdk-register.mjs'), join(here, 'hello.mjs')],
    cwd: repository,
    env: { ...base, OTEL_LOGS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' },
  },
} as const;
type Name = keyof typeof CONTENDERS;

function runOnce(name: Name): Promise<{ wallMs: number; cpuMs: number }> {
  const { args, env, cwd } = CONTENDERS[name];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', join(here, 'cpu.mjs'), ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
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
rmSync(app, { recursive: true, force: true });
const summary = Object.fromEntries(
  [...results].map(([name, list]) => [name, { wallMs: median(list.map((x) => x.wallMs)), cpuMs: median(list.map((x) => x.cpuMs)), runs: list.map((x) => Math.round(x.cpuMs)) }]),
);
process.stdout.write(JSON.stringify({ runs, delivered, expected: runs + 1, ...summary }) + '\n');
