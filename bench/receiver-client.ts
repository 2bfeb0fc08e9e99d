import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Starts bench/receiver-process.ts and talks to it over IPC. */
export async function forkReceiver(mode: 'accept' | 'blackhole' | 'otlp'): Promise<{ url: string; count: () => Promise<number>; close: () => Promise<void> }> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'receiver-process.ts'), [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the receiver process exited (code ${code}) before it listened`)));
  });
  return {
    url,
    count: () =>
      new Promise((resolve, reject) => {
        child.once('message', (m) => resolve((m as { accepted: number }).accepted));
        child.once('exit', (code) => reject(new Error(`the receiver process exited (code ${code})`)));
        child.send('count');
      }),
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send('close');
      }),
  };
}
