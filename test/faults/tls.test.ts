import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ownLines } from '../support/apps.ts';
import {
  allSeqs,
  expectFaultInvariants,
  makeSelfSignedCert,
  runFaultChild,
  sortedSeqs,
  startTlsReceiver,
  type SelfSignedCert,
  type TlsReceiver,
} from '../support/faults.ts';

// TLS to a loopback server whose certificate is self-signed for 127.0.0.1, generated at test
// time with openssl (the cases fail, rather than skip, when openssl is missing).

let tls: SelfSignedCert;
let server: TlsReceiver;
beforeAll(() => {
  tls = makeSelfSignedCert();
});
beforeEach(async () => {
  server = await startTlsReceiver(tls);
});
afterEach(async () => {
  await server.close();
});

describe('fault injection: TLS with a self-signed certificate', () => {
  it('without ca: nothing delivered, one diagnostic line about the certificate, no retry storm, the process exits', async () => {
    const n = 20;
    const run = await runFaultChild({ endpoint: server.url, n, perTick: 5, tickMs: 250, options: { shutdownTimeoutMs: 1000 } });
    expectFaultInvariants(run, server.accepted, n);
    expect(server.accepted).toEqual([]);
    expect(server.requests()).toBe(0);
    expect(run.stats?.dropped).toEqual({ queueFull: 0, tooLarge: 0, exportFailed: 0, rejected: 0, shutdown: n, invalid: 0, unanswered: 0 });
    const tlsLines = ownLines(run.stderr).filter((l) => /certificate|TLS|SSL|DEPTH_ZERO_SELF_SIGNED_CERT/i.test(l));
    expect(tlsLines, run.stderr).toHaveLength(1);
    expect(tlsLines[0]).toMatch(/self[- ]signed/i);
    // Some attempts while the process runs (backing off), not hundreds.
    expect(server.tcpConnections()).toBeGreaterThanOrEqual(1);
    expect(server.tcpConnections(), `TLS connections attempted: ${server.tcpConnections()}`).toBeLessThanOrEqual(10);
    expect(server.handshakes()).toBe(0);
  });

  it('with ca (the certificate PEM): all delivered once', async () => {
    const n = 30;
    const run = await runFaultChild({ endpoint: server.url, n, perTick: 10, tickMs: 50, options: { ca: tls.cert } });
    const report = expectFaultInvariants(run, server.accepted, n);
    expect(sortedSeqs(report)).toEqual(allSeqs(n));
    expect(server.handshakes()).toBeGreaterThanOrEqual(1);
    expect(ownLines(run.stderr)).toEqual([]);
  });
});
