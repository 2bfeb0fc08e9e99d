import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nearestPackage, nearestPackageName } from '../../src/config/app-package.ts';

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
    expect(nearestPackageName(join(base, 'dist', 'server'))).toBe('shop-api');
  });

  it('skips the package.json of installed packages (a CLI run from node_modules belongs to the app above)', () => {
    const base = tree({ 'package.json': '{"name":"@acme/worker"}', 'node_modules/next/package.json': '{"name":"next"}', 'node_modules/next/dist/bin/x.js': '' });
    expect(nearestPackageName(join(base, 'node_modules', 'next', 'dist', 'bin'))).toBe('@acme/worker');
    expect(nearestPackageName(join(base, 'node_modules'))).toBe('@acme/worker');
  });

  it('does not mistake a folder named like node_modules for one', () => {
    const base = tree({ 'node_modules_old/package.json': '{"name":"kept"}' });
    expect(nearestPackageName(join(base, 'node_modules_old'))).toBe('kept');
  });

  it('goes on past a package.json without a usable name, or that is not JSON', () => {
    const base = tree({ 'package.json': '{"name":"outer"}', 'a/package.json': '{"private":true}', 'a/b/package.json': 'not json', 'a/b/c/x.js': '' });
    expect(nearestPackageName(join(base, 'a', 'b', 'c'))).toBe('outer');
    const blank = tree({ 'package.json': '{"name":"   "}', 'x/y.js': '' });
    expect(nearestPackageName(join(blank, 'x'))).toBeUndefined();
  });

  it('finds nothing where no package.json is above', () => {
    const base = tree({ 'lonely/app.js': '' });
    expect(nearestPackageName(join(base, 'lonely'))).toBeUndefined();
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
    expect(nearestPackage(base)?.dependencies).toEqual(['@opentelemetry/sdk-node', 'a', 'b', 'c']);
    const odd = tree({ 'package.json': JSON.stringify({ name: 'odd', dependencies: ['x'], devDependencies: null }) });
    expect(nearestPackage(odd)).toEqual({ name: 'odd', dependencies: [] });
  });
});
