import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DIST_ESM = join(ROOT, 'dist', 'index.js');
export const DIST_CJS = join(ROOT, 'dist', 'index.cjs');

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}
