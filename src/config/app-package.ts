import { readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

const NODE_MODULES = `${sep}node_modules${sep}`;
/** What this package reads of the app's package.json files. */
export interface AppPackage {
  /** The name in the nearest package.json that has one, outside node_modules. */
  name: string | undefined;
  /**
   * What every package.json at or above the entry point (outside node_modules) depends on:
   * dependencies, optional, peer and dev dependencies, a workspace's and its monorepo root's alike.
   */
  dependencies: readonly string[];
}

let cached: AppPackage | undefined;

/**
 * The app's package.json files, from its entry point (process.argv[1], else the working directory)
 * up, skipping those of installed packages (a CLI started from node_modules/.bin belongs to the app
 * above it). The nearest name is the service name when nothing else names one, as dd-trace does,
 * rather than OpenTelemetry's `unknown_service:/path/to/node`. Read once; never throws.
 */
export function appPackage(): AppPackage {
  cached ??= appPackageAt(process.argv[1] === undefined || process.argv[1] === '' ? process.cwd() : dirname(resolve(process.argv[1])));
  return cached;
}

/** The package.json files at or above `start`, outside node_modules. */
export function appPackageAt(start: string): AppPackage {
  let name: string | undefined;
  const dependencies = new Set<string>();
  let dir = start;
  for (let depth = 0; depth < 64; depth++) {
    const inside = dir.lastIndexOf(NODE_MODULES.slice(0, -1));
    if (inside !== -1 && (dir.length === inside + NODE_MODULES.length - 1 || dir[inside + NODE_MODULES.length - 1] === sep)) {
      dir = dir.slice(0, inside); // an installed package's folder: look above its node_modules
      continue;
    }
    const json = readPackageJson(join(dir, 'package.json'));
    if (json !== undefined) {
      name ??= nameOf(json);
      for (const field of DEPENDENCY_FIELDS) {
        const value = json[field];
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) for (const dependency of Object.keys(value)) dependencies.add(dependency);
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { name, dependencies: [...dependencies] };
}

const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'] as const;

function readPackageJson(file: string): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // no package.json here, or not JSON
  }
}

function nameOf(json: Record<string, unknown>): string | undefined {
  const name = json.name;
  return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 256) : undefined;
}
