/** What the transport needs of a response head. */
export interface ResponseHead {
  status: number;
  retryAfter: string | undefined;
  /** The connection can carry another request once this response's body has ended. */
  reusable: boolean;
}

/** A response that breaks HTTP/1.1 framing: the connection cannot be trusted any more. */
export class HttpProtocolError extends Error {
  override readonly name = 'HttpProtocolError';
}

/** Node's limit for a response head. */
const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line or trailer line longer than this is not a server we understand. */
const MAX_LINE_BYTES = 4 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const NO_BYTES = Buffer.alloc(0);
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;

type State = 'head' | 'fixed' | 'chunkSize' | 'chunkData' | 'chunkEnd' | 'trailers' | 'untilClose' | 'done';

/**
 * Reads one HTTP/1.1 response as it arrives in chunks: the head (1xx interim answers skipped),
 * then the body framed by Content-Length, chunked transfer coding or the end of the connection.
 * Only what an exporter needs is kept: status, Retry-After, whether the connection can be reused,
 * and the body bytes (handed to onBody, not stored). Throws HttpProtocolError on a malformed response.
 */
export class ResponseParser {
  private state: State = 'head';
  /** Bytes of a head or line not complete yet. */
  private pending: Buffer = NO_BYTES;
  /** Body bytes left in a Content-Length body or the current chunk. */
  private remaining = 0;
  private finalHead: ResponseHead | undefined;
  private readonly onHead: (head: ResponseHead) => void;
  private readonly onBody: (chunk: Buffer) => void;

  constructor(onHead: (head: ResponseHead) => void, onBody: (chunk: Buffer) => void) {
    this.onHead = onHead;
    this.onBody = onBody;
  }

  /** The head of the final (not 1xx) answer, once it has arrived. */
  get head(): ResponseHead | undefined {
    return this.finalHead;
  }

  /** The whole response has arrived (see after each feed or end). */
  get complete(): boolean {
    return this.state === 'done';
  }

  /** Whether any of the response has arrived. */
  get started(): boolean {
    return this.finalHead !== undefined || this.pending.length > 0;
  }

  feed(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) {
      switch (this.state) {
        case 'head':
          data = this.readHead(data);
          break;
        case 'fixed':
        case 'chunkData': {
          const n = Math.min(this.remaining, data.length);
          this.onBody(data.subarray(0, n));
          this.remaining -= n;
          data = data.subarray(n);
          if (this.remaining === 0) {
            if (this.state === 'fixed') {
              this.finish();
            } else {
              this.state = 'chunkEnd';
              this.remaining = 2;
            }
          }
          break;
        }
        case 'chunkEnd': {
          // Exactly CRLF after each chunk's data; `remaining` counts the bytes of it still due.
          if (data[0] !== (this.remaining === 2 ? 0x0d : 0x0a)) throw new HttpProtocolError('chunk data not followed by CRLF');
          data = data.subarray(1);
          if (--this.remaining === 0) this.state = 'chunkSize';
          break;
        }
        case 'chunkSize':
          data = this.readLine(data, (line) => this.onChunkSize(line));
          break;
        case 'trailers':
          data = this.readLine(data, (line) => {
            if (line.length === 0) this.finish();
          });
          break;
        case 'untilClose':
          this.onBody(data);
          data = data.subarray(data.length);
          break;
        case 'done':
          // Bytes after a complete response, unasked for: the connection is out of step.
          throw new HttpProtocolError('data after the end of the response');
      }
    }
  }

  /** The connection ended: completes a body delimited by the close, else it was cut short. */
  end(): void {
    if (this.state === 'done') return;
    if (this.state === 'untilClose') return this.finish();
    throw new HttpProtocolError(this.started ? 'connection closed before the response ended' : 'connection closed without a response');
  }

  private onHeadText(text: string): void {
    const lines = text.split('\r\n');
    const statusLine = STATUS_LINE.exec(lines[0] as string);
    if (statusLine === null) throw new HttpProtocolError(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] as string).slice(0, 64))}`);
    const status = Number(statusLine[2]);
    let contentLength: number | undefined;
    let chunked = false;
    let transferCoded = false;
    let close = statusLine[1] === '0'; // HTTP/1.0: reusable only when it says keep-alive
    let retryAfter: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const header = HEADER_LINE.exec(lines[i] as string);
      if (header === null) throw new HttpProtocolError('malformed header line');
      const name = (header[1] as string).toLowerCase();
      const value = header[2] as string;
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) {
          throw new HttpProtocolError('invalid Content-Length');
        }
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        transferCoded = true;
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      } else if (name === 'connection') {
        const tokens = value.toLowerCase().split(',').map((t) => t.trim());
        if (tokens.includes('close')) close = true;
        else if (tokens.includes('keep-alive') && statusLine[1] === '0') close = false;
      } else if (name === 'retry-after') {
        retryAfter ??= value;
      }
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: interim, the real answer follows. 101 would switch protocols.
      if (status === 101) throw new HttpProtocolError('unexpected 101 Switching Protocols');
      return;
    }
    const noBody = status === 204 || status === 304;
    // Neither chunked nor a length: the body runs until the connection closes.
    // (A transfer coding other than chunked last means the same, whatever Content-Length says.)
    const untilClose = !noBody && !chunked && (contentLength === undefined || transferCoded);
    // Content-Length beside a transfer coding, or a transfer coding in HTTP/1.0: framing a proxy may
    // read otherwise (RFC 9112 6.1, 6.3). Read as chunked, but the connection is not used again.
    const ambiguous = transferCoded && (contentLength !== undefined || statusLine[1] === '0');
    this.finalHead = { status, retryAfter, reusable: !close && !untilClose && !ambiguous };
    this.onHead(this.finalHead);
    if (noBody) return this.finish();
    if (chunked) {
      this.state = 'chunkSize';
    } else if (!untilClose) {
      this.remaining = contentLength ?? 0;
      this.state = 'fixed';
      if (contentLength === 0) this.finish();
    } else {
      this.state = 'untilClose';
    }
  }

  private onChunkSize(line: Buffer): void {
    const text = line.toString('latin1');
    const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(text);
    if (size === null) throw new HttpProtocolError('invalid chunk size');
    this.remaining = Number.parseInt(size[1] as string, 16);
    this.state = this.remaining === 0 ? 'trailers' : 'chunkData';
  }

  private readHead(data: Buffer): Buffer {
    return this.readUntil(data, HEAD_END, MAX_HEAD_BYTES, 'response head too large', (head) => this.onHeadText(head.toString('latin1')));
  }

  private readLine(data: Buffer, onLine: (line: Buffer) => void): Buffer {
    return this.readUntil(data, CRLF, MAX_LINE_BYTES, 'line too long in a chunked body', onLine);
  }

  /**
   * Collects bytes up to `delimiter`, then hands what came before it to `onFound`; returns the
   * bytes after it (none while still collecting). More than `maxBytes` before it is an error.
   */
  private readUntil(data: Buffer, delimiter: Buffer, maxBytes: number, tooLong: string, onFound: (bytes: Buffer) => void): Buffer {
    const buffered = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    // Search only where the delimiter could start: its length - 1 pending bytes, then the new data.
    const from = Math.max(0, this.pending.length - delimiter.length + 1);
    const end = buffered.indexOf(delimiter, from);
    // Lines end with CRLF: a bare LF would otherwise leave us waiting for an end that never comes.
    for (let lf = buffered.indexOf(0x0a, from); lf !== -1 && (end === -1 || lf < end); lf = buffered.indexOf(0x0a, lf + 1)) {
      if (lf === 0 || buffered[lf - 1] !== 0x0d) throw new HttpProtocolError('line ended by LF without CR');
    }
    if (end === -1 || end > maxBytes) {
      if (buffered.length > maxBytes) throw new HttpProtocolError(tooLong);
      this.pending = Buffer.from(buffered);
      return data.subarray(data.length);
    }
    this.pending = NO_BYTES;
    onFound(buffered.subarray(0, end));
    return buffered.subarray(end + delimiter.length);
  }

  private finish(): void {
    this.state = 'done';
  }
}
