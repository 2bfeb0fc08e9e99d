import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SOURCES = ['src', 'register'];

/** Builds dist/ when it is missing or older than any source file, so nothing runs stale output. */
export function ensureBuilt(): void {
  const built = join(ROOT, 'dist', 'index.js');
  const newest = Math.max(...SOURCES.map((dir) => newestMtime(join(ROOT, dir))));
  if (existsSync(built) && existsSync(join(ROOT, 'dist', 'cli.js')) && newest <= statSync(built).mtimeMs) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (process.argv[1] === import.meta.filename) ensureBuilt();
