import type { LoggerProvider } from '@opentelemetry/sdk-logs';
import { describe, expect, it } from 'vitest';
import { ClientLoggerProvider } from '../../src/register/global-provider.ts';

// The provider register makes global: loggers and shutdown are the Logs SDK provider's (built when
// first asked for); forceFlush is the client's, bounded by its own deadline and never rejecting,
// where the SDK provider's MultiLogRecordProcessor rejects after a fixed 30 s.

function clientWith(provider: () => Partial<LoggerProvider>, flush: () => Promise<void>) {
  return {
    get loggerProvider() {
      return provider() as LoggerProvider;
    },
    flush,
  };
}

describe('ClientLoggerProvider', () => {
  it("forceFlush is the client's flush, without building or asking the Logs SDK provider", async () => {
    let flushed = 0;
    const global = new ClientLoggerProvider(
      clientWith(
        () => {
          throw new Error('the Logs SDK provider was asked');
        },
        async () => {
          flushed++;
        },
      ),
    );
    await expect(global.forceFlush()).resolves.toBeUndefined();
    expect(flushed).toBe(1);
  });

  it("getLogger and shutdown are the Logs SDK provider's", async () => {
    const calls: string[] = [];
    const logger = { emit: () => undefined, enabled: () => true };
    const global = new ClientLoggerProvider(
      clientWith(
        () => ({
          getLogger: (name: string, version?: string) => {
            calls.push(`getLogger ${name} ${version}`);
            return logger;
          },
          shutdown: async () => {
            calls.push('shutdown');
          },
        }),
        () => Promise.reject(new Error('not the client')),
      ),
    );
    expect(global.getLogger('lib', '1.0')).toBe(logger);
    await global.shutdown();
    expect(calls).toEqual(['getLogger lib 1.0', 'shutdown']);
  });
});
