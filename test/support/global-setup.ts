import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Process-level tests load the built package (dist/), as users do: rebuild it when any source
// file is newer than the build, so they never test stale output.
export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  const built = join(root, 'dist', 'index.js');
  if (existsSync(built) && newestMtime(join(root, 'src')) <= statSync(built).mtimeMs) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js')], { cwd: root, stdio: 'inherit' });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
