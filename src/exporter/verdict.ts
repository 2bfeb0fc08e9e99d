/**
 * What one attempt's result means for the events it carried: the exporter's whole error
 * classification, in one place (the README's "When the network misbehaves" table).
 *
 * - delivered: a 2xx.
 * - split: 400 or 413. The same body is never sent again: it is halved until the event at fault is alone.
 * - unauthorized: 401 or 403. Sending pauses until the key is tried again (authRetryIntervalMs).
 * - blocked: a failure below HTTP that no retry can cure: the endpoint's TLS certificate is not
 *   trusted, or the proxy refused its credentials (407). Sending pauses like a refused key.
 * - retry: 408, 429, any 5xx, and every other failure below HTTP: refused, reset or closed
 *   connections, timeouts, DNS failures, a malformed or oversized answer, a proxy that could not
 *   open a tunnel, and errors of unknown kind. Backoff, then another attempt.
 * - refused: any other status (3xx, 404, 405, 410, …): not retried, said once.
 */
export type Verdict = 'delivered' | 'split' | 'unauthorized' | 'blocked' | 'retry' | 'refused';

export function statusVerdict(status: number): Verdict {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 400 || status === 413) return 'split';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) return 'retry';
  return 'refused';
}

/** A failure that produced no status: `code` is Node's error code (ECONNRESET, HPE_…, a certificate's), or the transport's own. */
export function failureVerdict(code: string): 'blocked' | 'retry' {
  return CERTIFICATE_ERROR_CODES.has(code) || code === PROXY_AUTH_REQUIRED ? 'blocked' : 'retry';
}

/** Whether a failure's code says the endpoint's certificate could not be verified. */
export function isCertificateFailure(code: string): boolean {
  return CERTIFICATE_ERROR_CODES.has(code);
}

/** The transport's code for a proxy that answered 407 (Proxy Authentication Required). */
export const PROXY_AUTH_REQUIRED = 'ERR_PROXY_AUTH_REQUIRED';

/**
 * Certificate verification failures: OpenSSL's X509_V_ERR_* names as Node reports them (the tls
 * documentation's list of certificate error codes), and Node's own host name check.
 */
const CERTIFICATE_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
