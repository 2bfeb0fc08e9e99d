import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

const NODE_MODULES = `${sep}node_modules${sep}`;
let cached: { name: string | undefined } | undefined;

/**
 * The `name` in the package.json nearest to the app's entry point (process.argv[1], else the working
 * directory), skipping those of installed packages (a CLI started from node_modules/.bin belongs to
 * the app above it): the service name when nothing else names one, as dd-trace does, rather than
 * OpenTelemetry's `unknown_service:/path/to/node`. Read once; never throws.
 */
export function appPackageName(): string | undefined {
  cached ??= { name: nearestPackageName(process.argv[1] === undefined || process.argv[1] === '' ? process.cwd() : dirname(resolve(process.argv[1]))) };
  return cached.name;
}

/** The name in the nearest package.json at or above `start`, outside node_modules. */
export function nearestPackageName(start: string): string | undefined {
  let dir = start;
  for (let depth = 0; depth < 64; depth++) {
    const inside = dir.lastIndexOf(NODE_MODULES.slice(0, -1));
    if (inside !== -1 && (dir.length === inside + NODE_MODULES.length - 1 || dir[inside + NODE_MODULES.length - 1] === sep)) {
      dir = dir.slice(0, inside); // an installed package's folder: look above its node_modules
      continue;
    }
    const name = nameIn(join(dir, 'package.json'));
    if (name !== undefined) return name;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

function nameIn(file: string): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 256) : undefined;
  } catch {
    return undefined; // no package.json here, or not JSON
  }
}
