import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appPackageAt } from '../../src/config/app-package.ts';

const root = mkdtempSync(join(tmpdir(), 'astralog-app-package-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const base = mkdtempSync(join(root, 't-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(base, path, '..'), { recursive: true });
    writeFileSync(join(base, path), content);
  }
  return base;
}

describe('the service name from the app package.json', () => {
  it('takes the nearest package.json name above the entry point', () => {
    const base = tree({ 'package.json': '{"name":"shop-api"}', 'dist/server/index.js': '' });
    expect(appPackageAt(join(base, 'dist', 'server')).name).toBe('shop-api');
  });

  it('skips the package.json of installed packages (a CLI run from node_modules belongs to the app above)', () => {
    const base = tree({ 'package.json': '{"name":"@acme/worker"}', 'node_modules/next/package.json': '{"name":"next"}', 'node_modules/next/dist/bin/x.js': '' });
    expect(appPackageAt(join(base, 'node_modules', 'next', 'dist', 'bin')).name).toBe('@acme/worker');
    expect(appPackageAt(join(base, 'node_modules')).name).toBe('@acme/worker');
  });

  it('does not mistake a folder named like node_modules for one', () => {
    const base = tree({ 'node_modules_old/package.json': '{"name":"kept"}' });
    expect(appPackageAt(join(base, 'node_modules_old')).name).toBe('kept');
  });

  it('goes on past a package.json without a usable name, or that is not JSON', () => {
    const base = tree({ 'package.json': '{"name":"outer"}', 'a/package.json': '{"private":true}', 'a/b/package.json': 'not json', 'a/b/c/x.js': '' });
    expect(appPackageAt(join(base, 'a', 'b', 'c')).name).toBe('outer');
    const blank = tree({ 'package.json': '{"name":"   "}', 'x/y.js': '' });
    expect(appPackageAt(join(blank, 'x')).name).toBeUndefined();
  });

  it('finds nothing where no package.json is above', () => {
    const base = tree({ 'lonely/app.js': '' });
    expect(appPackageAt(join(base, 'lonely')).name).toBeUndefined();
  });
});

describe("the app's dependencies (register watches the ESM Logs API where they include OpenTelemetry)", () => {
  it('lists the names of every kind of dependency; ignores fields that are not objects', () => {
    const base = tree({
      'package.json': JSON.stringify({
        name: 'svc',
        dependencies: { '@opentelemetry/sdk-node': '^0.301.0' },
        optionalDependencies: { a: '1' },
        peerDependencies: { b: '1' },
        devDependencies: { c: '1' },
        bundleDependencies: ['d'],
      }),
    });
    expect(appPackageAt(base).dependencies).toEqual(['@opentelemetry/sdk-node', 'a', 'b', 'c']);
    const odd = tree({ 'package.json': JSON.stringify({ name: 'odd', dependencies: ['x'], devDependencies: null }) });
    expect(appPackageAt(odd)).toEqual({ name: 'odd', dependencies: [] });
  });

  it("reads every package.json up the tree: an unnamed app's, a workspace's and its monorepo root's; a malformed one is skipped", () => {
    const base = tree({
      'package.json': JSON.stringify({ private: true, workspaces: ['packages/*'], devDependencies: { '@opentelemetry/sdk-logs': '^3' } }),
      'packages/api/package.json': JSON.stringify({ name: '@acme/api', dependencies: { express: '^5' } }),
      'packages/api/src/broken/package.json': '{ not json',
      'packages/worker/package.json': JSON.stringify({ type: 'module', dependencies: { '@vendor/otel-node': '1' } }),
    });
    expect(appPackageAt(join(base, 'packages', 'api', 'src', 'broken'))).toEqual({ name: '@acme/api', dependencies: ['express', '@opentelemetry/sdk-logs'] });
    expect(appPackageAt(join(base, 'packages', 'worker'))).toEqual({ name: undefined, dependencies: ['@vendor/otel-node', '@opentelemetry/sdk-logs'] });
  });
});
