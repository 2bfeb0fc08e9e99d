import { describe, expect, it } from 'vitest';
import { failureVerdict, PROXY_AUTH_REQUIRED, statusVerdict, type Verdict } from '../../src/exporter/verdict.ts';

// One test per class of the exporter's classification (verdict.ts; the README's "When the network
// misbehaves"). The integration and fault suites show each class against real servers.
describe('statusVerdict', () => {
  const classes: Record<Verdict, number[]> = {
    delivered: [200, 201, 202, 204, 299],
    split: [400, 413],
    unauthorized: [401, 403],
    retry: [408, 429, 500, 501, 502, 503, 504, 507, 520, 599],
    refused: [301, 302, 304, 307, 308, 404, 405, 409, 410, 415, 422, 451],
    blocked: [],
  };
  it.each(Object.entries(classes))('%s', (verdict, statuses) => {
    for (const status of statuses) expect(statusVerdict(status), String(status)).toBe(verdict);
  });
});

describe('failureVerdict', () => {
  it('blocked: an endpoint certificate that cannot be verified, a proxy refusing its credentials', () => {
    for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', PROXY_AUTH_REQUIRED]) {
      expect(failureVerdict(code), code).toBe('blocked');
    }
  });
  it('retry: everything else, known or not', () => {
    const codes = [
      'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
      'HPE_INVALID_CONSTANT', 'HPE_CR_EXPECTED', 'HPE_INVALID_CONTENT_LENGTH', 'HPE_HEADER_OVERFLOW', 'HPE_UNEXPECTED_CONTENT_LENGTH',
      'ERR_STREAM_PREMATURE_CLOSE', 'ERR_PROXY_TUNNEL_REFUSED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_UNKNOWN', 'SOMETHING_NEW',
    ];
    for (const code of codes) expect(failureVerdict(code), code).toBe('retry');
  });
});
