import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ownLines, runApp } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// With nothing naming the service, register names it after the app's package.json (found from the
// entry point, outside any node_modules), and says so; with no package.json either, it warns rather
// than send OpenTelemetry's unknown_service:/path/to/node silently. The apps live outside the
// repository, so the repository's own package.json is not found.

let root: string;
let receiver: Receiver;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'astralog-service-'));
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterAll(async () => {
  await receiver.close();
  rmSync(root, { recursive: true, force: true });
});

function app(dir: string, packageJson?: object): string {
  mkdirSync(join(root, dir, 'src'), { recursive: true });
  if (packageJson !== undefined) writeFileSync(join(root, dir, 'package.json'), JSON.stringify(packageJson));
  const file = join(root, dir, 'src', 'server.mjs');
  writeFileSync(file, "console.log('started');\n");
  return file;
}

const env = (extra: Record<string, string> = {}) => cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ...extra });
const serviceOf = (from: number) => (receiver.accepted.slice(from) as Array<{ service: string }>).map((e) => e.service);

describe('the service name under register', () => {
  it("takes the app's package.json name when nothing else names it, and says so", async () => {
    const before = receiver.accepted.length;
    const run = await runApp(['--import', '@astralog/otel/register', app('shop', { name: 'shop-api', version: '1.0.0' })], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(serviceOf(before)).toEqual(['shop-api']);
    expect(ownLines(run.stderr).join('\n')).toContain('as service "shop-api" (the package.json name; ASTRALOG_SERVICE sets another)');
  });

  it('ASTRALOG_SERVICE, then OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES win over it, without a note', async () => {
    const file = app('named', { name: 'from-package' });
    for (const [vars, expected] of [
      [{ ASTRALOG_SERVICE: 'astralog-name', OTEL_SERVICE_NAME: 'otel-name' }, 'astralog-name'],
      [{ OTEL_SERVICE_NAME: 'otel-name' }, 'otel-name'],
      [{ OTEL_RESOURCE_ATTRIBUTES: 'service.name=resource-name' }, 'resource-name'],
    ] as const) {
      const before = receiver.accepted.length;
      const run = await runApp(['--import', '@astralog/otel/register', file], { env: env(vars) });
      expect(run.code, run.stderr).toBe(0);
      expect(serviceOf(before)).toEqual([expected]);
      expect(ownLines(run.stderr).join('\n')).toContain(`as service "${expected}";`);
    }
  });

  it('warns when nothing names the service, not even a package.json', async () => {
    const before = receiver.accepted.length;
    const run = await runApp(['--import', '@astralog/otel/register', app('bare')], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(serviceOf(before)[0]).toMatch(/^unknown_service/);
    expect(ownLines(run.stderr).join('\n')).toContain("(OpenTelemetry's default: nothing names this service; set ASTRALOG_SERVICE)");
  });
});
