// Checks the package as a user receives it: packs the tarball, lints it (publint, are-the-types-wrong),
// installs it into an empty project and loads it with both import and require.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const run = (cmd: string, args: string[], cwd = root) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });

const work = mkdtempSync(join(tmpdir(), 'astralog-pack-'));
try {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' })) as Array<{
    filename: string;
    files: Array<{ path: string }>;
    size: number;
  }>;
  const { filename, files, size } = packed[0]!;
  const tarball = join(work, filename);
  console.log(`packed ${filename}: ${files.length} files, ${size} bytes: ${files.map((f) => f.path).join(', ')}`);
  if (files.some((f) => /^(src|test|scripts)\//.test(f.path))) throw new Error('the tarball ships sources or tests');
  if (!files.some((f) => f.path === 'LICENSE')) throw new Error('the tarball has no LICENSE');

  // The internal protocol (protocol.ts; members marked @internal) is not part of the published types.
  const declarations = execFileSync('tar', ['-xzOf', tarball, 'package/dist/index.d.ts', 'package/dist/index.d.cts'], { encoding: 'utf8' });
  const leaked = ['REPORTS_PER_RECORD', 'PREPARE_EXPORT', 'FLUSH_UNTIL', 'ABORT_EXPORTS', 'PREPARE_SYNC_DELIVERY', 'HAND_OVER_PENDING', 'ABANDON_PENDING', 'SETTLE_HANDED_OVER'].filter((m) => declarations.includes(m));
  if (leaked.length > 0) throw new Error(`internal members in the published types: ${leaked.join(' ')}`);

  run(bin('publint'), ['run', tarball, '--strict']);
  run(bin('attw'), [tarball, '--profile', 'node16']);

  // A user's project: install the tarball (dependencies come from the npm cache filled by npm ci).
  const app = join(work, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], app);
  const check = `exporter = new m.AstralogLogRecordExporter({ apiKey: 'k', endpoint: 'http://127.0.0.1:9' });
    if (typeof exporter.export !== 'function' || typeof m.AstralogConfigError !== 'function') throw new Error('bad exports');
    exporter.shutdown();`;
  run(process.execPath, ['--input-type=module', '-e', `import * as m from '@astralog/otel'; let exporter; ${check} console.log('import ok', m.PACKAGE_VERSION);`], app);
  run(process.execPath, ['--input-type=commonjs', '-e', `const m = require('@astralog/otel'); let exporter; ${check} console.log('require ok', m.PACKAGE_VERSION);`], app);
  // The register entry, both ways (no key: it must say so in one line and leave the app alone).
  for (const flag of ['--import', '--require']) {
    const out = execFileSync(process.execPath, [flag, '@astralog/otel/register', '-e', "console.log('app ran')"], {
      cwd: app,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (out.trim() !== 'app ran') throw new Error(`${flag} @astralog/otel/register changed the app's output: ${out}`);
    // With a key it loads its set-up, an internal file next to it (dist/register-setup.*) found by
    // relative path at run time: it must be in the tarball and load from there.
    const status = execFileSync(process.execPath, [flag, '@astralog/otel/register', '-e', "process.stdout.write(globalThis[Symbol.for('@astralog/otel.register')].status)"], {
      cwd: app,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ASTRALOG_API_KEY: 'k', ASTRALOG_ENDPOINT: 'http://127.0.0.1:9', ASTRALOG_QUIET: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (status !== 'on') throw new Error(`${flag} @astralog/otel/register with a key: status ${status}, expected on`);
    console.log(`${flag} @astralog/otel/register ok (without and with a key)`);
  }
  // Beside NodeSDK (whose 0.301.x releases pin exact 3.1.x versions of the SDK packages), the tree
  // keeps one copy of each OpenTelemetry package we depend on.
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '@opentelemetry/sdk-node@0.301.2', '@opentelemetry/api@1.10.0'], app);
  for (const name of ['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/resources', '@opentelemetry/sdk-logs', '@opentelemetry/context-async-hooks']) {
    const copies = execFileSync('npm', ['ls', name, '--all', '--parseable'], { cwd: app, encoding: 'utf8' }).split('\n').filter((line) => line.trim() !== '');
    const versions = new Set(copies.map((dir) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version));
    if (copies.length !== 1) throw new Error(`beside @opentelemetry/sdk-node 0.301.2, ${name} is installed ${copies.length} times (${[...versions].join(', ')})`);
    console.log(`beside sdk-node 0.301.2: one copy of ${name} (${[...versions].join('')})`);
  }
  // The integrations and the dev receiver, both ways (the integrations beside the libraries they serve).
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', 'winston@3', 'pino@10'], app);
  for (const [entry, names] of [['pino', 'astralogStream'], ['winston', 'AstralogTransport'], ['lambda', 'wrapHandler'], ['dev', 'startDevReceiver']] as const) {
    const probe = `if (typeof m.${names} !== 'function') throw new Error('@astralog/otel/${entry} has no ${names}');`;
    run(process.execPath, ['--input-type=module', '-e', `import * as m from '@astralog/otel/${entry}'; ${probe}`], app);
    run(process.execPath, ['--input-type=commonjs', '-e', `const m = require('@astralog/otel/${entry}'); ${probe}`], app);
    console.log(`@astralog/otel/${entry} ok (import and require)`);
  }
  // The astralog command from the installed package.
  const version = execFileSync(join(app, 'node_modules', '.bin', 'astralog'), ['--version'], { encoding: 'utf8' }).trim();
  if (version !== JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: root, encoding: 'utf8' }))) throw new Error(`astralog --version printed ${version}`);
  console.log(`astralog --version ok (${version})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
