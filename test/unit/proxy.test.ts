import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AstralogConfigError } from '../../src/config/errors.ts';
import { resolveProxy, type ProxyEnv } from '../../src/config/proxy.ts';
import { startProxy, type TestProxy } from '../support/proxy.ts';

const resolve = (endpoint: string, env: ProxyEnv, option?: unknown) => resolveProxy(option, new URL(endpoint), env);
const via = (endpoint: string, env: ProxyEnv) => resolve(endpoint, env)?.href;

describe('resolveProxy: the proxy option', () => {
  it('a URL (string or URL) is used for every endpoint, loopback included, whatever the environment says', () => {
    const env = { HTTPS_PROXY: 'http://env-proxy:1', NO_PROXY: '*' };
    expect(resolve('https://ingest.example.com', env, 'http://corp-proxy:3128')).toEqual({ href: 'http://corp-proxy:3128/', origin: 'http://corp-proxy:3128', variable: undefined, credentials: [] });
    expect(resolve('http://127.0.0.1:8080', env, new URL('https://corp-proxy:8443'))?.href).toBe('https://corp-proxy:8443/');
  });

  it('false ignores the environment', () => {
    expect(resolve('https://ingest.example.com', { HTTPS_PROXY: 'http://env-proxy:1' }, false)).toBeUndefined();
  });

  it('keeps credentials for the transport, but not in what may be printed', () => {
    const proxy = resolve('https://ingest.example.com', {}, 'http://bob:s%40cret@corp-proxy:3128');
    expect(proxy?.href).toBe('http://bob:s%40cret@corp-proxy:3128/');
    expect(proxy?.origin).toBe('http://corp-proxy:3128');
    // What a message must never show: decoded, as written, paired, and as the Basic credentials.
    expect(proxy?.credentials).toEqual(['s@cret', 's%40cret', 'bob:s@cret', Buffer.from('bob:s@cret').toString('base64')]);
  });

  it('refuses credentials that are not valid percent-encoding (a bare %), from the option or a variable, without repeating them', () => {
    for (const [env, option, name] of [
      [{}, 'http://bob:50%off@corp-proxy:3128', 'proxy'],
      [{ HTTPS_PROXY: 'http://bob%:hunter2@corp-proxy:3128' }, undefined, 'HTTPS_PROXY'],
    ] as Array<[ProxyEnv, string | undefined, string]>) {
      let error: unknown;
      try {
        resolve('https://ingest.example.com', env, option);
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(AstralogConfigError);
      expect((error as AstralogConfigError).option).toBe(name);
      expect((error as Error).message).toMatch(/percent-encoding/);
      expect((error as Error).message).not.toMatch(/50%off|hunter2/);
    }
  });

  it('refuses what is not an http(s) proxy URL, naming the option, never repeating credentials', () => {
    const bad: unknown[] = ['', '   ', 42, {}, 'socks5://bob:hunter2@proxy:1080', 'ftp://bob:hunter2@proxy', 'http://bob:hunter2@', 'http://[bob:hunter2'];
    for (const value of bad) {
      let error: unknown;
      try {
        resolve('https://ingest.example.com', {}, value);
      } catch (e) {
        error = e;
      }
      expect(error, String(value)).toBeInstanceOf(AstralogConfigError);
      expect((error as AstralogConfigError).option).toBe('proxy');
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('resolveProxy: the environment', () => {
  it('https endpoints use https_proxy/HTTPS_PROXY, else the http one; http endpoints only http_proxy/HTTP_PROXY', () => {
    expect(via('https://ingest.example.com', { HTTPS_PROXY: 'http://a:1' })).toBe('http://a:1/');
    expect(via('https://ingest.example.com', { HTTP_PROXY: 'http://b:1' })).toBe('http://b:1/');
    expect(via('http://ingest.example.com', { HTTPS_PROXY: 'http://a:1' })).toBeUndefined();
    expect(via('http://ingest.example.com', { HTTP_PROXY: 'http://b:1', HTTPS_PROXY: 'http://a:1' })).toBe('http://b:1/');
    expect(resolve('https://ingest.example.com', { HTTPS_PROXY: 'http://a:1' })?.variable).toBe('HTTPS_PROXY');
  });

  it('the lowercase name wins; set but empty, it hides the uppercase one', () => {
    expect(resolve('https://x.example', { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:1' })).toMatchObject({ href: 'http://lower:1/', variable: 'https_proxy' });
    expect(via('http://x.example', { http_proxy: '', HTTP_PROXY: 'http://upper:1' })).toBeUndefined();
    // an empty https_proxy falls back to the http proxy, as undici does
    expect(via('https://x.example', { https_proxy: '', HTTPS_PROXY: 'http://upper:1', HTTP_PROXY: 'http://b:1' })).toBe('http://b:1/');
  });

  it('reads a proxy without a scheme as http, as curl and Go do', () => {
    expect(via('https://x.example', { HTTPS_PROXY: 'proxy.corp:3128' })).toBe('http://proxy.corp:3128/');
  });

  it('NO_PROXY: hosts, their subdomains, ports, wildcards', () => {
    const proxied = (endpoint: string, noProxy: string) => via(endpoint, { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1', NO_PROXY: noProxy }) !== undefined;
    expect(proxied('https://ingest.example.com', 'example.com')).toBe(false);
    expect(proxied('https://ingest.example.com', '.example.com')).toBe(false);
    expect(proxied('https://ingest.example.com', '*.example.com')).toBe(false);
    expect(proxied('https://ingest.example.com', 'INGEST.Example.COM')).toBe(false);
    expect(proxied('https://ingest.example.com', 'other.com, example.com')).toBe(false);
    expect(proxied('https://ingest.example.com', 'other.com example.com')).toBe(false);
    expect(proxied('https://ingest.example.com', 'ample.com')).toBe(true); // a suffix, not a subdomain
    expect(proxied('https://ingest.example.com', 'example.com:443')).toBe(false);
    expect(proxied('https://ingest.example.com:8443', 'example.com:443')).toBe(true);
    expect(proxied('http://ingest.example.com', 'example.com:80')).toBe(false);
    expect(proxied('https://ingest.example.com', '*')).toBe(false);
    expect(proxied('https://ingest.example.com', '*,other.com')).toBe(true); // '*' only alone, as undici reads it
    expect(proxied('https://[2001:db8::1]:8443', '[2001:db8::1]')).toBe(false);
    expect(proxied('https://10.1.2.3', '10.1.2.3')).toBe(false);
    expect(proxied('https://ingest.example.com', '')).toBe(true);
    expect(via('https://x.example.com', { HTTPS_PROXY: 'http://p:1', no_proxy: '', NO_PROXY: 'example.com' })).toBeDefined(); // lowercase wins
  });

  it('never sends a loopback endpoint through a proxy the environment names', () => {
    const env = { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1' };
    for (const endpoint of ['http://localhost:8080', 'http://127.0.0.1:8080', 'https://127.0.0.2', 'http://[::1]:8080', 'http://[::ffff:127.0.0.1]:8080']) {
      expect(via(endpoint, env), endpoint).toBeUndefined();
    }
  });

  it('a bad variable is named in the error, its credentials never repeated; one that does not apply is not read', () => {
    expect(() => resolve('https://x.example', { HTTPS_PROXY: 'socks5://bob:hunter2@p:1080' })).toThrow(/^HTTPS_PROXY: .*SOCKS/);
    expect(() => resolve('https://x.example', { https_proxy: 'http://bob:hunter2@' })).toThrow(/^https_proxy: /);
    try {
      resolve('https://x.example', { HTTPS_PROXY: 'http://bob:hunter2@' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
    expect(via('https://x.example', { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: '::not a url::' })).toBe('http://p:1/');
    expect(via('https://x.example', { HTTPS_PROXY: '::not a url::', NO_PROXY: 'x.example' })).toBeUndefined();
  });
});

// The same decisions as undici's own EnvHttpProxyAgent: each case is sent through it, with a proxy
// on loopback for the proxies and, for direct connections, a lookup that fails at once (so no name
// is resolved for real); where the request went is compared with resolveProxy.
describe('resolveProxy decides as undici EnvHttpProxyAgent routes', () => {
  const undici = createRequire(import.meta.url)('undici') as typeof import('undici');
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy();
  });
  afterAll(async () => {
    await proxy.close();
  });

  const P = () => proxy.url;
  const cases: Array<[string, () => Record<string, string>]> = [
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P() })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTP_PROXY: P() })],
    ['http://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P() })],
    ['http://ingest.example.com/v1/drain', () => ({ http_proxy: P() })],
    ['https://ingest.example.com/v1/drain', () => ({ https_proxy: '', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: P() })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: 'example.com' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: '.example.com' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: '*.example.com' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: 'ample.com' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: 'example.com:443' })],
    ['https://ingest.example.com:8443/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: 'example.com:443' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: '*' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: '*,other.com' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), no_proxy: '', NO_PROXY: 'example.com' })],
    ['https://ingest.example.com/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: 'other.com INGEST.EXAMPLE.COM' })],
    // (a direct connection to an address would leave loopback: only cases that go through the proxy use one)
    ['https://[2001:db8::1]:8443/v1/drain', () => ({ HTTPS_PROXY: P(), NO_PROXY: '[2001:db8::2]' })],
  ];

  it.each(cases.map(([endpoint, env], i) => [i, endpoint, env] as const))('case %i: %s', async (_i, endpoint, makeEnv) => {
    const env = makeEnv();
    const names = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
    const saved = names.map((name) => [name, process.env[name]] as const);
    for (const name of names) delete process.env[name];
    Object.assign(process.env, env);
    const failedLookup = (host: string, _o: unknown, cb: (e: Error) => void) => cb(Object.assign(new Error(`no lookup in tests: ${host}`), { code: 'ETESTNOLOOKUP' }));
    const agent = new undici.EnvHttpProxyAgent({ connect: { lookup: failedLookup as never, timeout: 2000 } });
    const before = proxy.requests.length;
    try {
      await undici.request(endpoint, { method: 'POST', body: '{}', dispatcher: agent }).then(
        (r) => r.body.dump(),
        () => undefined,
      );
    } finally {
      await agent.destroy();
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const undiciProxied = proxy.requests.length > before;
    expect(resolve(endpoint, env) !== undefined, JSON.stringify(env)).toBe(undiciProxied);
  });
});
