import { describe, expect, it } from 'vitest';
import { AstralogConfigError } from '../../src/config/errors.ts';
import { describeEnvError, readEnvConfig } from '../../src/config/env.ts';

const KEY = { ASTRALOG_API_KEY: 'ast_sk_live_k' };

describe('readEnvConfig', () => {
  it('is off, with one reason naming ASTRALOG_API_KEY, without a key', () => {
    const config = readEnvConfig({});
    expect(config.state).toBe('off');
    expect(config.state === 'off' && config.reason).toMatch(/ASTRALOG_API_KEY is not set/);
    expect(readEnvConfig({ ASTRALOG_ENDPOINT: 'http://localhost:8080' })).toMatchObject({ state: 'off' });
    expect(readEnvConfig({ ASTRALOG_API_KEY: '   ' })).toMatchObject({ state: 'off' });
  });

  it('is disabled by OTEL_SDK_DISABLED', () => {
    expect(readEnvConfig({ ...KEY, OTEL_SDK_DISABLED: 'true' })).toEqual({ state: 'disabled', reason: 'OTEL_SDK_DISABLED=true' });
    expect(readEnvConfig({ ...KEY, OTEL_SDK_DISABLED: 'false' }).state).toBe('on');
  });

  it('reads every documented variable', () => {
    const config = readEnvConfig({
      ...KEY,
      ASTRALOG_ENDPOINT: 'http://localhost:8080',
      ASTRALOG_PROJECT_ID: 'org-xyz',
      ASTRALOG_SERVICE: 'checkout',
      OTEL_SERVICE_NAME: 'ignored-when-astralog-service-set',
      ASTRALOG_LEVEL: 'WARN',
      ASTRALOG_COMPRESSION: 'gzip',
      ASTRALOG_ALLOW_INSECURE_HTTP: 'false',
      ASTRALOG_MAX_QUEUE_SIZE: '1000',
      ASTRALOG_MAX_QUEUE_BYTES: '1048576',
      ASTRALOG_MAX_BATCH_SIZE: '100',
      ASTRALOG_FLUSH_INTERVAL_MS: '500',
      ASTRALOG_EXPORT_TIMEOUT_MS: '3000',
      ASTRALOG_MAX_CONCURRENT_EXPORTS: '2',
      ASTRALOG_SHUTDOWN_TIMEOUT_MS: '1500',
      ASTRALOG_CAPTURE_CONSOLE: 'off',
      ASTRALOG_QUIET: '1',
      OTEL_LOG_LEVEL: 'debug',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=pay%20ments',
    });
    expect(config).toEqual({
      state: 'on',
      options: {
        apiKey: 'ast_sk_live_k', endpoint: 'http://localhost:8080', projectId: 'org-xyz', service: 'checkout', level: 'warn',
        compression: 'gzip', maxQueueSize: 1000, maxQueueBytes: 1048576, maxBatchSize: 100, flushIntervalMs: 500,
        exportTimeoutMs: 3000, maxConcurrentExports: 2, shutdownTimeoutMs: 1500,
      },
      settings: {
        captureConsole: false, quiet: true, shutdownTimeoutMs: 1500, otelLogLevel: 'DEBUG',
        resourceAttributes: { 'deployment.environment': 'prod', team: 'pay ments' },
      },
    });
  });

  it('ASTRALOG_PROXY: a proxy URL for the proxy option, or none (false, off, no, 0) for a direct connection', () => {
    expect(readEnvConfig({ ...KEY, ASTRALOG_PROXY: ' http://proxy.corp:3128 ' })).toMatchObject({ options: { proxy: 'http://proxy.corp:3128' } });
    for (const word of ['none', 'NONE', 'false', 'off', 'no', '0']) {
      expect(readEnvConfig({ ...KEY, ASTRALOG_PROXY: word }), word).toMatchObject({ options: { proxy: false } });
    }
    expect(readEnvConfig({ ...KEY })).not.toHaveProperty('options.proxy');
    expect(describeEnvError(new AstralogConfigError('proxy', 'the proxy URL has no host'))).toBe('ASTRALOG_PROXY: the proxy URL has no host');
  });

  it('falls back to OTEL_SERVICE_NAME for the service', () => {
    expect(readEnvConfig({ ...KEY, OTEL_SERVICE_NAME: 'api' })).toMatchObject({ options: { service: 'api' } });
  });

  it('names each bad variable and what it accepts, all at once', () => {
    const config = readEnvConfig({
      ...KEY,
      ASTRALOG_MAX_QUEUE_SIZE: 'lots',
      ASTRALOG_LEVEL: 'constructor',
      ASTRALOG_CAPTURE_CONSOLE: 'maybe',
      ASTRALOG_COMPRESSION: 'br',
      OTEL_LOG_LEVEL: 'chatty',
      OTEL_RESOURCE_ATTRIBUTES: 'novalue',
      ASTRALOG_EXPORT_TIMEOUT_MS: '-5',
    });
    expect(config.state).toBe('invalid');
    expect(config.state === 'invalid' && config.errors).toEqual([
      "ASTRALOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, got 'constructor'",
      "ASTRALOG_COMPRESSION: expected 'none' or 'gzip', got 'br'",
      "ASTRALOG_MAX_QUEUE_SIZE: expected a whole number, got 'lots'",
      "ASTRALOG_EXPORT_TIMEOUT_MS: expected a whole number, got '-5'",
      "ASTRALOG_CAPTURE_CONSOLE: expected true or false, got 'maybe'",
      "OTEL_LOG_LEVEL: expected one of NONE, ERROR, WARN, INFO, DEBUG, VERBOSE, ALL, got 'chatty'",
      "OTEL_RESOURCE_ATTRIBUTES: expected key=value pairs separated by commas, got 'novalue'",
    ]);
  });

  it('turns an option error into the variable it came from', () => {
    expect(describeEnvError(new AstralogConfigError('endpoint', "expected an http:// or https:// URL, got 'ftp:'"))).toBe(
      "ASTRALOG_ENDPOINT: expected an http:// or https:// URL, got 'ftp:'",
    );
    expect(describeEnvError(new AstralogConfigError('maxBatchSize', 'must not exceed maxQueueSize (10)'))).toBe(
      'ASTRALOG_MAX_BATCH_SIZE: must not exceed maxQueueSize (10)',
    );
  });
});
