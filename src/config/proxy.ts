import { AstralogConfigError } from './errors.ts';
import { isLoopbackHost } from './validate.ts';

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** The proxy that requests to the endpoint go through. Built once, at construction. */
export interface ProxySetting {
  /** The proxy's URL, credentials included: handed to the transport only, never printed. */
  readonly href: string;
  /** The proxy's origin, without credentials: safe to print. */
  readonly origin: string;
  /** The environment variable it came from ('HTTPS_PROXY', 'https_proxy', …); undefined for the proxy option. */
  readonly variable: string | undefined;
  /** What of its credentials must never be printed: the password, `user:password`, and that as Basic credentials. */
  readonly credentials: readonly string[];
}

/** The proxy option: a URL, or false to ignore the environment's proxy variables. */
export type ProxyOption = string | URL | false;

/**
 * The proxy for `endpoint`, decided once: the `proxy` option when given (a URL, or false for a
 * direct connection); else the environment, read as undici's EnvHttpProxyAgent reads it:
 * `https_proxy`/`HTTPS_PROXY` for an https endpoint (falling back to the http one),
 * `http_proxy`/`HTTP_PROXY` for an http endpoint, the lowercase name first, and `no_proxy`/`NO_PROXY`
 * listing hosts (`example.com` also covers its subdomains, `host:port` one port, `*` everything)
 * reached directly. One addition, as Go's net/http: a loopback endpoint is never sent through a
 * proxy named by the environment (a remote proxy cannot reach this machine's loopback).
 *
 * Errors name the option or the variable, and never repeat the credentials of a proxy URL.
 */
export function resolveProxy(option: unknown, endpoint: URL, env: ProxyEnv): ProxySetting | undefined {
  if (option === false) return undefined;
  if (option !== undefined) {
    const raw = option instanceof URL ? option.href : option;
    if (typeof raw !== 'string' || raw.trim() === '') {
      throw new AstralogConfigError('proxy', 'expected a proxy URL (http://host:port) or false');
    }
    return proxySetting(raw, 'proxy', undefined);
  }
  if (isLoopbackHost(endpoint.hostname)) return undefined;
  const chosen = endpoint.protocol === 'https:' ? (variable(env, 'https_proxy') ?? variable(env, 'http_proxy')) : variable(env, 'http_proxy');
  if (chosen === undefined || bypassed(endpoint, noProxyOf(env))) return undefined;
  return proxySetting(chosen.value, chosen.name, chosen.name);
}

/** `lower` or, when the lowercase variable is not set at all, its uppercase form; undefined when empty. */
function variable(env: ProxyEnv, lower: string): { name: string; value: string } | undefined {
  const upper = lower.toUpperCase();
  const name = env[lower] !== undefined ? lower : upper;
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : { name, value };
}

function noProxyOf(env: ProxyEnv): string {
  return env['no_proxy'] ?? env['NO_PROXY'] ?? '';
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** A URL's port, or its scheme's default. */
export function portOf(url: URL): number {
  return Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
}

/**
 * The Proxy-Authorization header for a proxy URL's credentials (Basic, percent-decoded);
 * undefined without any. resolveProxy has refused credentials that do not decode.
 */
export function proxyAuthorization(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  return `Basic ${Buffer.from(credentialPair(url)).toString('base64')}`;
}

/** `user:password`, percent-decoded (a URIError when they are not valid percent-encoding). */
function credentialPair(url: URL): string {
  return `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
}

/** Whether NO_PROXY lists the endpoint's host (with its port, when the entry names one). */
function bypassed(endpoint: URL, noProxy: string): boolean {
  const entries = noProxy.split(/[,\s]/).filter((entry) => entry !== '');
  if (entries.length === 0) return false;
  if (noProxy === '*') return true;
  // `host` keeps the brackets of an IPv6 address, as NO_PROXY entries write them.
  const hostname = endpoint.host.replace(/:\d*$/, '').toLowerCase();
  const port = portOf(endpoint);
  for (const entry of entries) {
    const withPort = /^(.+):(\d+)$/.exec(entry);
    const host = (withPort?.[1] ?? entry).replace(/^\*?\./, '').toLowerCase();
    const entryPort = withPort === null ? 0 : Number.parseInt(withPort[2] as string, 10);
    if (entryPort !== 0 && entryPort !== port) continue;
    if (hostname === host || hostname.endsWith(`.${host}`)) return true;
  }
  return false;
}

/** Parses a proxy URL; without a scheme it is http, as curl and Go read `proxy.corp:3128`. */
function proxySetting(raw: string, name: string, variable: string | undefined): ProxySetting {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new AstralogConfigError(name, 'is not a valid proxy URL (expected e.g. http://proxy.example.com:3128)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AstralogConfigError(name, `expected an http:// or https:// proxy, got '${url.protocol}' (SOCKS proxies are not supported)`);
  }
  if (url.hostname === '') throw new AstralogConfigError(name, 'the proxy URL has no host');
  return { href: url.href, origin: url.origin, variable, credentials: credentialsOf(url, name) };
}

/** The proxy's credentials as they could appear in a message: decoded, encoded, paired, as Basic. */
function credentialsOf(url: URL, name: string): string[] {
  let pair: string;
  try {
    pair = credentialPair(url);
  } catch {
    // They are decoded to build Proxy-Authorization: every request would fail.
    throw new AstralogConfigError(name, "the proxy URL's user or password is not valid percent-encoding (write a % as %25)");
  }
  const username = pair.slice(0, pair.indexOf(':'));
  if (url.password === '') return username === '' ? [] : [username];
  return [pair.slice(username.length + 1), url.password, pair, Buffer.from(pair).toString('base64')];
}
