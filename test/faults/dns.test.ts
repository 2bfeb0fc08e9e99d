import { describe, expect, it } from 'vitest';
import { expectFaultInvariants, runFaultChild } from '../support/faults.ts';

// The child replaces dns.lookup before the package is loaded, so resolving the endpoint's host
// fails at once and no name is ever looked up for real. An async hook counts the
// getaddrinfo/c-ares requests Node would make for a real lookup: the case fails if there is one.
const NO_REAL_DNS = `
import dns from 'node:dns';
import { createHook } from 'node:async_hooks';
const realLookups = [];
createHook({ init(_id, type) { if (type === 'GETADDRINFOREQWRAP' || type === 'GETNAMEINFOREQWRAP' || type === 'QUERYWRAP') realLookups.push(type); } }).enable();
let patchedLookups = 0;
dns.lookup = (host, opts, cb) => {
  patchedLookups++;
  const callback = typeof opts === 'function' ? opts : cb;
  process.nextTick(callback, Object.assign(new Error('getaddrinfo ENOTFOUND ' + host), { code: 'ENOTFOUND', hostname: host }));
};
globalThis.__faultExtra = () => ({ patchedLookups, realLookups });
`;

describe('fault injection: DNS failure (no network traffic)', () => {
  it('a name that does not resolve: nothing delivered, close() bounded, every event counted, the process exits', async () => {
    const n = 20;
    const shutdownTimeoutMs = 1000;
    const run = await runFaultChild({
      endpoint: 'http://astralog.invalid:8080',
      n,
      perTick: 5,
      tickMs: 100,
      preamble: NO_REAL_DNS,
      options: { allowInsecureHttp: true, shutdownTimeoutMs },
    });
    expectFaultInvariants(run, [], n);
    const extra = run.extra as { patchedLookups: number; realLookups: string[] } | undefined;
    expect(extra?.realLookups, 'a real DNS lookup happened').toEqual([]);
    expect(extra?.patchedLookups, 'the patched dns.lookup was never used').toBeGreaterThan(0);
    expect(run.closeMs).toBeLessThan(shutdownTimeoutMs + 400);
    expect(run.stats?.exported).toBe(0);
    expect(run.stats?.dropped).toEqual({ queueFull: 0, tooLarge: 0, exportFailed: 0, rejected: 0, shutdown: n, invalid: 0, unanswered: 0 });
    expect(run.stats?.exporter.delivered).toBe(0);
    expect(run.stderr).toMatch(/ENOTFOUND/);
  });
});
