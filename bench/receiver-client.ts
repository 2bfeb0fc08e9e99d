import { fork } from 'node:child_process';
import { join } from 'node:path';

/** A bench helper process (a receiver) and its IPC: one ready message, then requests and answers. */
export interface ChildReceiver<Ready> {
  ready: Ready;
  /** Sends `message` and resolves with the first reply `pick` accepts; rejects if none comes within replyMs. */
  ask<T>(message: string, pick: (reply: unknown) => T | undefined, replyMs?: number): Promise<T>;
  /** Asks it to close, and kills it if it has not exited within 3 s. */
  close(): Promise<void>;
  kill(): void;
}

/** Forks a script of this folder and waits for its ready message. */
export async function forkChild<Ready>(script: string, args: string[]): Promise<ChildReceiver<Ready>> {
  const child = fork(join(import.meta.dirname, script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited (code ${code}) before it was ready`)));
  });
  return {
    ready,
    ask: (message, pick, replyMs = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`${script} did not answer '${message}' within ${replyMs} ms (exit code ${child.exitCode})`));
        }, replyMs);
        const onMessage = (m: unknown): void => {
          const reply = pick(m);
          if (reply === undefined) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(reply);
        };
        child.on('message', onMessage);
        if (child.connected) child.send(message);
      }),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.connected) child.send('close');
      }),
    kill: () => child.kill('SIGKILL'),
  };
}

/** Starts bench/receiver-process.ts: the loopback receiver of the scenarios. */
export async function forkReceiver(mode: 'accept' | 'blackhole' | 'otlp'): Promise<{ url: string; count: () => Promise<number>; close: () => Promise<void> }> {
  const receiver = await forkChild<{ url: string }>('receiver-process.ts', [mode]);
  return {
    url: receiver.ready.url,
    count: () => receiver.ask('count', (m) => (m as { accepted?: number }).accepted),
    close: () => receiver.close(),
  };
}
