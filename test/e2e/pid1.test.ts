import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, makeAppDir, spawnNode, type AppDir } from '../support/apps.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// A container without an init process (`docker run` without --init, a shell-less exec-form CMD) runs
// node as PID 1, where the kernel ignores a signal's default action: `docker stop`'s SIGTERM would
// leave the app running until the SIGKILL 10 s later. Register flushes, then ends the process with
// 128 + the signal's number. The app runs as PID 1 of a new PID namespace (unshare, as root).

let apps: AppDir;
let receiver: Receiver;
beforeAll(async () => {
  apps = makeAppDir();
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterAll(async () => {
  await receiver.close();
  apps.remove();
});

describe('register as PID 1', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: flushes, then ends with code ${code} instead of running on`, async () => {
      const app = apps.write(
        `server-${signal}.mjs`,
        `import { createServer } from 'node:http';
         createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => {
           console.log('serving as pid ' + process.pid);
           console.log('ready');
         });`,
      );
      const node = spawnNode(['--import', '@astralog/otel/register', app], {
        env: cleanEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_QUIET: 'true' }),
        wrapper: ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'], // a failed run leaves no process behind
      });
      await node.waitForLine('ready');
      expect(node.stdout()).toContain('serving as pid 1');
      // unshare's child is node: signal it from outside the namespace, as docker does.
      const nodePid = Number(execFileSync('pgrep', ['-P', String(node.child.pid)], { encoding: 'utf8' }).trim());
      process.kill(nodePid, signal);
      const result = await node.result;
      expect(result.code, result.stderr).toBe(code);
      expect(receiver.accepted.map((e) => (e as { message: string }).message)).toContain('serving as pid 1');
    });
  }
});
