import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AstralogConfigError, createAstralog } from '../../src/index.ts';
import { TEST_KEY } from '../support/exporting.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// createAstralog(): every option falls back to the variable register reads; options win.

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver({ apiKey: TEST_KEY });
});
afterAll(() => receiver.close());
afterEach(() => {
  vi.unstubAllEnvs();
});

function stubEnv(vars: Record<string, string>): void {
  for (const [name, value] of Object.entries(vars)) vi.stubEnv(name, value);
}

describe('createAstralog from the environment', () => {
  it('with no options, sends with ASTRALOG_API_KEY to ASTRALOG_ENDPOINT, as ASTRALOG_SERVICE, with ASTRALOG_PROJECT_ID', async () => {
    stubEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_SERVICE: 'from-env', ASTRALOG_PROJECT_ID: 'org-env', ASTRALOG_LEVEL: 'info' });
    const before = receiver.accepted.length;
    const client = createAstralog();
    expect(client.endpoint).toBe(`${receiver.url}/v1/drain`);
    client.debug('filtered by ASTRALOG_LEVEL');
    client.info('hello');
    await client.close();
    expect(receiver.accepted.slice(before)).toMatchObject([{ message: 'hello', service: 'from-env', project_id: 'org-env' }]);
    expect(client.stats().filtered).toBe(1);
  });

  it('options win over the variables, one by one', async () => {
    stubEnv({ ASTRALOG_API_KEY: 'ast_wrong_key', ASTRALOG_ENDPOINT: 'http://127.0.0.1:9', ASTRALOG_SERVICE: 'env-service', OTEL_SERVICE_NAME: 'otel-service' });
    const before = receiver.accepted.length;
    const client = createAstralog({ apiKey: TEST_KEY, endpoint: receiver.url });
    client.info('options first');
    await client.close();
    expect(receiver.accepted.slice(before)).toMatchObject([{ message: 'options first', service: 'env-service' }]);
  });

  it('OTEL_SERVICE_NAME names the service when ASTRALOG_SERVICE is not set', () => {
    stubEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'otel-service' });
    const client = createAstralog();
    expect(client.serviceName).toBe('otel-service');
    void client.close();
  });

  it('without a key anywhere, the error names both the option and the variable', () => {
    vi.stubEnv('ASTRALOG_API_KEY', '');
    expect(() => createAstralog()).toThrow(/apiKey: .*the apiKey option or ASTRALOG_API_KEY/);
  });

  it('a bad variable behind an option not given is an error naming the variable; behind a given option it is ignored', () => {
    stubEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: receiver.url, ASTRALOG_MAX_BATCH_SIZE: 'lots' });
    const error = (() => {
      try {
        createAstralog();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AstralogConfigError);
    expect((error as AstralogConfigError).message).toBe("ASTRALOG_MAX_BATCH_SIZE: expected a whole number, got 'lots'");
    const client = createAstralog({ maxBatchSize: 100 });
    void client.close();
  });

  it('a variable whose value the option refuses names the variable, and never echoes the key', () => {
    stubEnv({ ASTRALOG_API_KEY: TEST_KEY, ASTRALOG_ENDPOINT: 'ftp://example.invalid/x' });
    expect(() => createAstralog()).toThrow(/^endpoint: .*\(read from ASTRALOG_ENDPOINT\)$/);
    stubEnv({ ASTRALOG_API_KEY: 'has space secret', ASTRALOG_ENDPOINT: receiver.url });
    let message = '';
    try {
      createAstralog();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('read from ASTRALOG_API_KEY');
    expect(message).not.toContain('secret');
  });

  it('options that are not an object are refused', () => {
    expect(() => createAstralog('key' as never)).toThrow(AstralogConfigError);
  });
});
