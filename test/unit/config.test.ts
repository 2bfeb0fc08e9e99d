import { describe, expect, it } from 'vitest';
import { AstralogConfigError } from '../../src/config/errors.ts';
import { resolveExporterConfig } from '../../src/config/exporter-config.ts';
import { AstralogLogRecordExporter } from '../../src/index.ts';

const KEY = 'ast_sk_live_secretvalue123';

function configError(options: unknown): AstralogConfigError {
  try {
    resolveExporterConfig(options);
  } catch (error) {
    expect(error).toBeInstanceOf(AstralogConfigError);
    return error as AstralogConfigError;
  }
  throw new Error('expected an AstralogConfigError');
}

describe('exporter options', () => {
  it('applies defaults', () => {
    const c = resolveExporterConfig({ apiKey: KEY });
    expect(c.url.href).toBe('https://ingest.astralog.cloud/v1/drain');
    expect(c).toMatchObject({ compression: 'none', exportTimeoutMs: 10_000, maxEventBytes: 262_144, shutdownTimeoutMs: 2000 });
  });

  it('appends /v1/drain to a base URL only', () => {
    expect(resolveExporterConfig({ apiKey: KEY, endpoint: 'http://localhost:8080' }).url.href).toBe('http://localhost:8080/v1/drain');
    expect(resolveExporterConfig({ apiKey: KEY, endpoint: 'https://proxy.example/astralog/drain?x=1' }).url.href).toBe(
      'https://proxy.example/astralog/drain?x=1',
    );
  });

  it('refuses plaintext http to a non-loopback host unless allowed', () => {
    expect(configError({ apiKey: KEY, endpoint: 'http://logs.example.com' }).option).toBe('endpoint');
    for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '[::1]']) {
      expect(() => resolveExporterConfig({ apiKey: KEY, endpoint: `http://${host}:8080` })).not.toThrow();
    }
    expect(resolveExporterConfig({ apiKey: KEY, endpoint: 'http://logs.example.com', allowInsecureHttp: true }).url.protocol).toBe('http:');
  });

  it('refuses endpoints that are not http(s) URLs', () => {
    for (const endpoint of ['ftp://x', 'not a url', '', 'file:///etc/passwd', 'https://user:pw@host']) {
      expect(configError({ apiKey: KEY, endpoint }).option).toBe('endpoint');
    }
  });

  it('refuses keys that could inject headers, never echoing them', () => {
    for (const apiKey of [`${KEY}\r\nX-Evil: 1`, `${KEY}\n`, `a b`, `k\u0000`, 'clé', 42, undefined, '']) {
      const error = configError({ apiKey });
      expect(error.option).toBe('apiKey');
      expect(error.message).not.toContain('secretvalue');
    }
  });

  it('validates headers', () => {
    expect(configError({ apiKey: KEY, headers: { Authorization: 'x' } }).message).toMatch(/is the exporter's own .* and cannot be set/);
    expect(configError({ apiKey: KEY, headers: { 'x-a': 'v\r\nInjected: 1' } }).message).toMatch(/header injection/);
    expect(configError({ apiKey: KEY, headers: { 'bad name': 'v' } }).message).toMatch(/not a valid header name/);
    expect(configError({ apiKey: KEY, headers: { 'x-n': 1 } }).message).toMatch(/must be a string/);
    expect(resolveExporterConfig({ apiKey: KEY, headers: { 'X-Tenant': 'a' } }).headers).toEqual({ 'x-tenant': 'a' });
  });

  it('names the option and what it accepts for bad values', () => {
    expect(configError({ apiKey: KEY, compression: 'brotli' }).message).toBe("compression: expected one of 'none', 'gzip', got 'brotli'");
    expect(configError({ apiKey: KEY, exportTimeoutMs: -1 }).option).toBe('exportTimeoutMs');
    expect(configError({ apiKey: KEY, exportTimeoutMs: '5000' }).message).toMatch(/expected an integer/);
    expect(configError({ apiKey: KEY, maxEventBytes: 100 }).option).toBe('maxEventBytes');
    expect(configError({ apiKey: KEY, maxEventBytes: 1_000_000, maxRequestBytes: 500_000 }).option).toBe('maxRequestBytes');
    expect(configError({ apiKey: KEY, projectId: '' }).option).toBe('projectId');
    expect(configError({ apiKey: KEY, projectId: '\ud800x' }).message).toMatch(/well-formed/);
    expect(configError({ apiKey: KEY, redactKeys: 'password' }).option).toBe('redactKeys');
    expect(configError(null).option).toBe('options');
    expect(configError({ apiKey: KEY, metadata: { nested: { a: 1 } } }).message).toMatch(/field 'nested' must be a string/);
    expect(configError({ apiKey: KEY, metadata: [] }).option).toBe('metadata');
  });

  it('refuses misspelt options with a suggestion', () => {
    const error = configError({ apikey: KEY });
    expect(error.option).toBe('apikey');
    expect(error.message).toMatch(/did you mean 'apiKey'/);
  });

  it('throws from the exporter constructor', () => {
    expect(() => new AstralogLogRecordExporter({ apiKey: KEY, endpoint: 'ftp://x' })).toThrow(AstralogConfigError);
  });
});
