/**
 * Helpers for process-level tests of `@astralog/otel/register`: throwaway app files inside the
 * repository (so bare imports resolve from its node_modules), a clean environment, and a spawn
 * variant that lets a test act (send a signal) once the child prints a given line.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ROOT, type ProcessResult } from './spawn.ts';
import { PREFIX } from '../../src/ground/stderr.ts';

export interface AppDir {
  /** Absolute path of the directory (under node_modules/.cache, gitignored). */
  dir: string;
  /** Writes `source` to `<dir>/<name>` and returns the absolute path. */
  write(name: string, source: string): string;
  /** Deletes the directory. Idempotent. */
  remove(): void;
}

/** A fresh directory for app files under `node_modules/.cache/astralog-e2e/` (resolves the repo's packages). */
export function makeAppDir(): AppDir {
  const dir = join(ROOT, 'node_modules', '.cache', 'astralog-e2e', `apps-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    write(name, source) {
      const path = join(dir, name);
      writeFileSync(path, source);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Proxy variables of the machine's: a test that wants a proxy sets its own. */
const PROXY_VARIABLES = new Set(['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy']);

/** process.env without any inherited OTEL_*, ASTRALOG_* or proxy variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('OTEL_') || key.startsWith('ASTRALOG_') || PROXY_VARIABLES.has(key.toLowerCase())) continue;
    // A NODE_OPTIONS inherited from a test runner could preload things into the child.
    if (key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export interface SpawnedNode {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves once the stream (stdout unless said) has contained `text` (or matched it); rejects if the process ends first or after timeoutMs. */
  waitForLine(text: string | RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has ended and its streams are closed. */
  result: Promise<ProcessResult>;
}

/**
 * Starts `node [args]` with exactly `env` (not merged with process.env), cwd the repository root
 * unless given; SIGKILLed after `timeoutMs`. `wrapper` runs node inside another command (e.g. `unshare …`).
 */
export function spawnNode(args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs?: number; wrapper?: string[]; cwd?: string }): SpawnedNode {
  const started = Date.now();
  const [command, ...commandArgs] = [...(options.wrapper ?? []), process.execPath, ...args] as [string, ...string[]];
  const child = spawn(command, commandArgs, {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let ended = false;
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const l of listeners) l();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const l of listeners) l();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const result = new Promise<ProcessResult>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ended = true;
      for (const l of listeners) l();
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started });
    });
  });

  function waitForLine(text: string | RegExp, timeoutMs = 10_000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const output = stream === 'stdout' ? stdout : stderr;
        if (typeof text === 'string' ? output.includes(text) : text.test(output)) {
          finish();
          resolve();
        } else if (ended) {
          finish();
          reject(new Error(`the process ended before printing ${String(text)}; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`));
        }
      };
      const t = setTimeout(() => {
        finish();
        reject(new Error(`no ${String(text)} on ${stream} after ${timeoutMs} ms; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(t);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  }

  return { child, waitForLine, stdout: () => stdout, stderr: () => stderr, result };
}

/** Runs `node [args]` to completion with exactly `env`. */
export function runApp(args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string }): Promise<ProcessResult> {
  return spawnNode(args, options).result;
}

/** Runs `node [args]` with exactly `env`, sends it `signal` once it has printed 'ready', and waits for its end. */
export async function signalWhenReady(args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs?: number }, signal: NodeJS.Signals): Promise<ProcessResult> {
  const node = spawnNode(args, options);
  await node.waitForLine('ready');
  node.child.kill(signal);
  return node.result;
}

/** Lines of `text` that are this package's own diagnostics. */
export function ownLines(text: string): string[] {
  return text.split('\n').filter(isOwnLine);
}

/** `text` without this package's own diagnostic lines (what the app itself printed). */
export function withoutOwnLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => !isOwnLine(line))
    .join('\n');
}

const isOwnLine = (line: string): boolean => line.startsWith(PREFIX.trimEnd());
