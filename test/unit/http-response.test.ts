import { describe, expect, it } from 'vitest';
import { HttpProtocolError, ResponseParser, type ResponseHead } from '../../src/exporter/http-response.ts';

interface Parsed {
  heads: ResponseHead[];
  body: string;
  complete: boolean;
}

/** Feeds `pieces` one after another (then `end()` when asked) and reports what the parser saw. */
function parse(pieces: Array<string | Buffer>, options: { end?: boolean } = {}): Parsed {
  const parsed: Parsed = { heads: [], body: '', complete: false };
  const parser = new ResponseParser(
    (head) => parsed.heads.push({ ...head }),
    (chunk) => (parsed.body += chunk.toString('latin1')),
  );
  for (const piece of pieces) parser.feed(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece);
  if (options.end === true) parser.end();
  parsed.complete = parser.complete;
  return parsed;
}

/** The same response cut at every byte position (two pieces), and byte by byte. */
function everySplit(text: string): string[][] {
  const splits = [[text], [...text]];
  for (let i = 1; i < text.length; i++) splits.push([text.slice(0, i), text.slice(i)]);
  return splits;
}

describe('ResponseParser', () => {
  it('reads a Content-Length answer the same however the bytes arrive', () => {
    const text = 'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"status":"accepted"}';
    for (const pieces of everySplit(text)) {
      expect(parse(pieces)).toEqual({ heads: [{ status: 202, retryAfter: undefined, reusable: true }], body: '{"status":"accepted"}', complete: true });
    }
  });

  it('reads a chunked answer with chunk extensions and trailers, however the bytes arrive', () => {
    const text = 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nTransfer-Encoding: chunked\r\n\r\n' + '7;note=x\r\n{"error\r\n' + 'E\r\n":"saturated"}\r\n' + '0\r\nX-Trailer: 1\r\n\r\n';
    for (const pieces of everySplit(text)) {
      expect(parse(pieces)).toEqual({ heads: [{ status: 429, retryAfter: '2', reusable: true }], body: '{"error":"saturated"}', complete: true });
    }
  });

  it('skips interim 1xx answers', () => {
    const p = parse(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n', 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n']);
    expect(p).toEqual({ heads: [{ status: 202, retryAfter: undefined, reusable: true }], body: '', complete: true });
  });

  it('says when the connection cannot be reused', () => {
    const close = parse(['HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok']);
    expect(close.heads[0]?.reusable).toBe(false);
    const http10 = parse(['HTTP/1.0 202 Accepted\r\nContent-Length: 2\r\n\r\nok']);
    expect(http10.heads[0]?.reusable).toBe(false);
    const http10KeepAlive = parse(['HTTP/1.0 202 Accepted\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok']);
    expect(http10KeepAlive.heads[0]?.reusable).toBe(true);
    // Ambiguous framing (RFC 9112 6.1): read as chunked, then the connection is not trusted again.
    const both = parse(['HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n']);
    expect(both).toEqual({ heads: [{ status: 202, retryAfter: undefined, reusable: false }], body: 'ok', complete: true });
    const http10Chunked = parse(['HTTP/1.0 202 Accepted\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']);
    expect(http10Chunked.heads[0]?.reusable).toBe(false);
  });

  it('reads a body without length until the connection ends, and never reuses that connection', () => {
    const open = parse(['HTTP/1.1 500 Internal Server Error\r\n\r\npart one, ', 'part two']);
    expect(open).toMatchObject({ body: 'part one, part two', complete: false });
    const ended = parse(['HTTP/1.1 500 Internal Server Error\r\n\r\npart one, ', 'part two'], { end: true });
    expect(ended).toEqual({ heads: [{ status: 500, retryAfter: undefined, reusable: false }], body: 'part one, part two', complete: true });
  });

  it('completes answers that have no body by definition', () => {
    expect(parse(['HTTP/1.1 204 No Content\r\n\r\n'])).toMatchObject({ complete: true, body: '' });
  });

  it('keeps the first Retry-After and the status of the final answer', () => {
    const p = parse(['HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\nRetry-After: 9\r\nContent-Length: 0\r\n\r\n']);
    expect(p.heads).toEqual([{ status: 503, retryAfter: '7', reusable: true }]);
  });

  it.each([
    ['not HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n'],
    ['an HTTP/2 status line', 'HTTP/2 200\r\n\r\n'],
    ['a malformed header line', 'HTTP/1.1 202 Accepted\r\nno colon here\r\n\r\n'],
    ['a header name with a space', 'HTTP/1.1 202 Accepted\r\nBad Name: x\r\n\r\n'],
    ['a non-numeric Content-Length', 'HTTP/1.1 202 Accepted\r\nContent-Length: 12abc\r\n\r\n'],
    ['conflicting Content-Length values', 'HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'],
    ['an invalid chunk size', 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk data without its CRLF', 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX'],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n'],
    ['bytes after the end of the answer', 'HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n'],
    ['a head that never ends', `HTTP/1.1 202 Accepted\r\nX-Long: ${'a'.repeat(20_000)}`],
    ['a head with bare LF line ends', 'HTTP/1.1 202 Accepted\nContent-Length: 0\n\n'],
    ['a chunk-size line ended by a bare LF', 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n'],
    ['an endless chunk-size line', `HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n${'1'.repeat(5000)}`],
  ])('refuses %s', (_what, text) => {
    expect(() => parse([text])).toThrow(HttpProtocolError);
  });

  it('says an answer cut short is cut short', () => {
    expect(() => parse([], { end: true })).toThrow(/without a response/);
    expect(() => parse(['HTTP/1.1 202 Acc'], { end: true })).toThrow(/before the response ended/);
    expect(() => parse(['HTTP/1.1 202 Accepted\r\nContent-Length: 10\r\n\r\nok'], { end: true })).toThrow(/before the response ended/);
    expect(() => parse(['HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n'], { end: true })).toThrow(/before the response ended/);
  });
});
