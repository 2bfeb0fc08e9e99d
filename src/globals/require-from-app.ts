import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Loads a package as the application would (from its main script's folder or the working directory),
 * or undefined: optional companions (the OTLP exporter, the older Logs API) are the app's to install,
 * and must be the app's copy, whose globals its other libraries use.
 */
export function requireFromApp<T>(name: string): T | undefined {
  const file = resolveFromApp(name);
  return file === undefined ? undefined : requireFile<T>(file);
}

/** Loads a file resolveFromApp found; undefined when it does not load. */
export function requireFile<T>(file: string): T | undefined {
  try {
    return createRequire(file)(file) as T;
  } catch {
    return undefined;
  }
}

/** The file `require(name)` would load in the application, without loading it; undefined when none. */
export function resolveFromApp(name: string): string | undefined {
  const bases = [process.argv[1], join(process.cwd(), 'noop.js')];
  for (const base of bases) {
    if (base === undefined || base === '') continue;
    try {
      return createRequire(base).resolve(name);
    } catch {
      // not resolvable from there
    }
  }
  return undefined;
}
