import type { ServerResponse } from 'node:http';
import { PAGE_HTML } from './page-html.ts';
import { PAGE_SCRIPT } from './page-script.ts';
import { PAGE_CSS } from './page-style.ts';

// The page is three strings bundled into the CLI: no files to ship or find, nothing fetched from
// the internet. The policy allows only this origin's script and style (no inline script), so even
// a slip that put event text into markup could not run it.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

interface Asset {
  path: string;
  type: string;
  body: Buffer;
}

const ASSETS: readonly Asset[] = [
  { path: '/', type: 'text/html; charset=utf-8', body: Buffer.from(PAGE_HTML) },
  { path: '/assets/app.js', type: 'text/javascript; charset=utf-8', body: Buffer.from(PAGE_SCRIPT) },
  { path: '/assets/app.css', type: 'text/css; charset=utf-8', body: Buffer.from(PAGE_CSS) },
];

/** The page's files and their sizes in bytes (as served, uncompressed). */
export function webAssets(): Array<{ path: string; bytes: number }> {
  return ASSETS.map((a) => ({ path: a.path, bytes: a.body.length }));
}

/** Answers a GET for the page or one of its assets; false when `pathname` is none of them. */
export function serveWeb(pathname: string, res: ServerResponse): boolean {
  if (pathname === '/favicon.ico') {
    res.writeHead(204, SECURITY_HEADERS).end();
    return true;
  }
  const asset = ASSETS.find((a) => a.path === (pathname === '/index.html' ? '/' : pathname));
  if (asset === undefined) return false;
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length }).end(asset.body);
  return true;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether a request for the page or the read API may be answered. On a loopback address, only
 * when the browser asked for a loopback name: a web site that rebinds its own name to 127.0.0.1
 * (DNS rebinding) must not read the events. On another address the user chose to be reachable.
 */
export function allowedHost(hostHeader: string | undefined, listenHost: string): boolean {
  if (!isLoopback(listenHost)) return true;
  if (hostHeader === undefined) return false;
  const name = hostHeader.toLowerCase().replace(/:\d+$/, '');
  return LOOPBACK_NAMES.has(name) || /^127(\.\d{1,3}){3}$/.test(name) || name.endsWith('.localhost');
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
