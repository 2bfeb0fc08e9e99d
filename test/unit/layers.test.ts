import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/spawn.ts';

// Lower layers never import higher ones: the ground module imports nothing of ours; configuration
// and diagnostics know nothing of the client, the register or the pipeline; the exporter knows
// nothing of the processor; the processor speaks to our exporter through the ground module's
// outcome types and the encoded events, never the concrete exporter. Type-only imports count too.

const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each source file (relative to src/) with the files of ours it imports (relative to src/). */
const imports = new Map(
  sources(SRC).map((file) => {
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string);
    return [relative(SRC, file), specifiers.map((s) => relative(SRC, resolve(dirname(file), s)))] as const;
  }),
);

function violations(from: (file: string) => boolean, forbidden: (target: string) => boolean): string[] {
  return [...imports].flatMap(([file, targets]) => (from(file) ? targets.filter(forbidden).map((t) => `${file} -> ${t}`) : []));
}

const inDir = (dir: string) => (file: string) => file.startsWith(`${dir}/`);
const anyOf = (...dirs: string[]) => (file: string) => dirs.some((d) => file.startsWith(`${d}/`) || file === d);

describe('layers', () => {
  it('reads the imports it checks (the rules are not vacuous)', () => {
    expect(imports.get('processor/processor.ts')).toContain('ground/outcome.ts');
    expect(imports.get('client/client.ts')).toContain('processor/processor.ts');
  });

  it('the ground module imports nothing of ours', () => {
    expect(violations(inDir('ground'), () => true)).toEqual([]);
  });

  it('configuration and diagnostics import neither the client, the register, nor the pipeline', () => {
    expect(violations(anyOf('config', 'diagnostics.ts'), anyOf('client', 'register', 'processor', 'exporter', 'console', 'context', 'integrations', 'receiver'))).toEqual([]);
  });

  it('the exporter imports neither the processor, the client, nor the register', () => {
    expect(violations(inDir('exporter'), anyOf('processor', 'client', 'register', 'console', 'integrations', 'receiver'))).toEqual([]);
  });

  it('the processor imports neither the client, the register, nor the concrete exporter', () => {
    expect(violations(inDir('processor'), (t) => anyOf('client', 'register', 'console', 'integrations', 'receiver')(t) || t === 'exporter/exporter.ts')).toEqual([]);
  });

  it('console capture and context import nothing of register; nothing below the integrations imports them', () => {
    expect(violations(anyOf('console', 'context'), anyOf('register', 'integrations'))).toEqual([]);
    expect(violations((f) => !f.startsWith('integrations/'), inDir('integrations'))).toEqual([]);
  });
});
