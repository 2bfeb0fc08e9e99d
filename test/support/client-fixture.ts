import { afterEach, beforeEach } from 'vitest';
import { STATE, type RegisterState } from '../../src/register/gate.ts';
import { createAstralog, type Astralog } from '../../src/index.ts';
import { captureStderr, TEST_KEY } from './exporting.ts';
import { startReceiver, type Receiver } from './receiver.ts';

/** Per test: a loopback receiver that takes TEST_KEY, closed after each test. */
export function useReceiver(): { readonly receiver: Receiver } {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver({ apiKey: TEST_KEY });
  });
  afterEach(async () => {
    await receiver.close();
  });
  return {
    get receiver() {
      return receiver;
    },
  };
}

export interface ClientFixture {
  readonly client: Astralog;
  readonly receiver: Receiver;
  readonly stderr: ReturnType<typeof captureStderr>;
  /** Everything logged so far, as the receiver got it (after a flush). */
  delivered(): Promise<unknown[]>;
}

/**
 * Per test: a loopback receiver, a real client sending to it (every level; no interval flush, so a
 * test's own flush is what delivers), and stderr captured; closed after each test.
 */
export function useClientAndReceiver(service: string): ClientFixture {
  const perTest = useReceiver(); // closed after the client (after-hooks run in reverse)
  let client: Astralog;
  let stderr: ReturnType<typeof captureStderr>;
  beforeEach(() => {
    stderr = captureStderr();
    client = createAstralog({ apiKey: TEST_KEY, endpoint: perTest.receiver.url, service, level: 'trace', flushIntervalMs: 600_000 });
  });
  afterEach(async () => {
    await client.close();
    stderr.restore();
  });
  return {
    get client() {
      return client;
    },
    get receiver() {
      return perTest.receiver;
    },
    get stderr() {
      return stderr;
    },
    async delivered() {
      await client.flush();
      return perTest.receiver.accepted;
    },
  };
}

/** Runs `fn` as if register had run and left `state` (its client, or that it is off), then forgets it. */
export async function asIfRegistered(state: RegisterState, fn: () => unknown): Promise<void> {
  const global = globalThis as Record<symbol, unknown>;
  global[STATE] = state;
  try {
    await fn();
  } finally {
    delete global[STATE];
  }
}
