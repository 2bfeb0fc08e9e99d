import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

const NODE_MODULES = `${sep}node_modules${sep}`;
/** The app's package.json, as far as this package reads it. */
export interface AppPackage {
  name: string;
  /** The packages it depends on (dependencies, optional, peer and dev dependencies). */
  dependencies: readonly string[];
}

let cached: { found: AppPackage | undefined } | undefined;

/**
 * The package.json nearest to the app's entry point (process.argv[1], else the working directory)
 * that names a package, skipping those of installed packages (a CLI started from node_modules/.bin
 * belongs to the app above it). Its name is the service name when nothing else names one, as
 * dd-trace does, rather than OpenTelemetry's `unknown_service:/path/to/node`. Read once; never throws.
 */
export function appPackage(): AppPackage | undefined {
  cached ??= { found: nearestPackage(process.argv[1] === undefined || process.argv[1] === '' ? process.cwd() : dirname(resolve(process.argv[1]))) };
  return cached.found;
}

export function appPackageName(): string | undefined {
  return appPackage()?.name;
}

/** The name in the nearest package.json at or above `start`, outside node_modules. */
export function nearestPackageName(start: string): string | undefined {
  return nearestPackage(start)?.name;
}

/** The nearest package.json at or above `start`, outside node_modules, that names a package. */
export function nearestPackage(start: string): AppPackage | undefined {
  let dir = start;
  for (let depth = 0; depth < 64; depth++) {
    const inside = dir.lastIndexOf(NODE_MODULES.slice(0, -1));
    if (inside !== -1 && (dir.length === inside + NODE_MODULES.length - 1 || dir[inside + NODE_MODULES.length - 1] === sep)) {
      dir = dir.slice(0, inside); // an installed package's folder: look above its node_modules
      continue;
    }
    const found = packageIn(join(dir, 'package.json'));
    if (found !== undefined) return found;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'] as const;

function packageIn(file: string): AppPackage | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const name = json.name;
    if (typeof name !== 'string' || name.trim() === '') return undefined;
    const dependencies = DEPENDENCY_FIELDS.flatMap((field) => {
      const value = json[field];
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
    });
    return { name: name.trim().slice(0, 256), dependencies };
  } catch {
    return undefined; // no package.json here, or not JSON
  }
}
