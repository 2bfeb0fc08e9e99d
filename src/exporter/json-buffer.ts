/** Strings that cannot be copied into JSON as they are: quotes, backslashes, controls, surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** Below this length a string is copied by a JS loop; above, by Buffer.write (a native call). */
const SHORT_STRING = 48;
/** "000" to "999" as ASCII, three bytes each. */
const THREE_DIGITS = Buffer.from(Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0')).join(''), 'latin1');

/**
 * A growable UTF-8 byte buffer that JSON is written into directly: no intermediate strings,
 * no string ropes, so encoding a batch makes little garbage. Short ASCII is copied byte by byte;
 * anything else goes through one native write.
 */
export class JsonBuffer {
  bytes: Buffer;
  pos = 0;

  constructor(initialBytes = 16 * 1024) {
    this.bytes = Buffer.allocUnsafe(initialBytes);
  }

  ensure(extra: number): void {
    if (this.pos + extra > this.bytes.length) this.grow(this.pos + extra);
  }

  byte(code: number): void {
    if (this.pos === this.bytes.length) this.grow(this.pos + 1);
    this.bytes[this.pos++] = code;
  }

  /** Text known to be ASCII needing no escape (punctuation, digits, our own keys). */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const b = this.bytes;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = text.charCodeAt(i);
    this.pos = p;
  }

  /** Bytes already encoded (cached fragments). */
  raw(fragment: Uint8Array): void {
    const n = fragment.length;
    this.ensure(n);
    if (n < 32) {
      const b = this.bytes;
      let p = this.pos;
      for (let i = 0; i < n; i++) b[p++] = fragment[i] as number;
      this.pos = p;
    } else {
      this.bytes.set(fragment, this.pos);
      this.pos += n;
    }
  }

  /** A JSON string literal. Lone surrogates are escaped (\udXXX), so the output is valid UTF-8. */
  string(text: string): void {
    const n = text.length;
    if (n < SHORT_STRING) {
      this.ensure(n + 2);
      const b = this.bytes;
      let p = this.pos;
      b[p++] = 0x22;
      for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return this.stringNative(text);
        b[p++] = c;
      }
      b[p++] = 0x22;
      this.pos = p;
      return;
    }
    this.stringNative(text);
  }

  private stringNative(text: string): void {
    if (NEEDS_ESCAPE.test(text)) {
      const quoted = JSON.stringify(text); // well-formed: escapes lone surrogates, keeps valid pairs
      this.ensure(quoted.length * 3);
      this.pos += this.bytes.write(quoted, this.pos);
    } else {
      this.ensure(text.length * 3 + 2);
      this.bytes[this.pos++] = 0x22;
      this.pos += this.bytes.write(text, this.pos);
      this.bytes[this.pos++] = 0x22;
    }
  }

  /** A finite number as JSON (integers without allocating). */
  number(value: number): void {
    if (value === (value | 0)) return this.integer(value);
    this.ascii(String(value)); // finite non-int32: String() is valid JSON ("1e+21", "0.5")
  }

  /** Unsigned or negative int32, digits written right to left, two at a time. */
  private integer(value: number): void {
    if (value < 0) {
      if (value === -2147483648) return this.ascii('-2147483648');
      this.byte(0x2d);
      value = -value;
    }
    const digits = digitCount(value);
    this.ensure(digits);
    const b = this.bytes;
    let p = this.pos + digits;
    this.pos = p;
    while (value >= 100) {
      const pair = (value % 100) * 3; // "0xy" in THREE_DIGITS: its last two bytes
      value = (value / 100) | 0;
      b[--p] = THREE_DIGITS[pair + 2] as number;
      b[--p] = THREE_DIGITS[pair + 1] as number;
    }
    if (value >= 10) {
      b[--p] = THREE_DIGITS[value * 3 + 2] as number;
      b[--p] = THREE_DIGITS[value * 3 + 1] as number;
    } else {
      b[--p] = 0x30 + value;
    }
  }

  /** Exactly nine digits (nanoseconds: an integer from 0 to 999 999 999), zero-padded. */
  nineDigits(value: number): void {
    this.ensure(9);
    const v = value | 0; // < 2^31: int32 arithmetic, no float division
    const high = (v / 1_000_000) | 0;
    const rest = v - high * 1_000_000;
    const middle = (rest / 1000) | 0;
    this.threeDigits(high);
    this.threeDigits(middle);
    this.threeDigits(rest - middle * 1000);
  }

  private threeDigits(value: number): void {
    const b = this.bytes;
    const from = value * 3;
    b[this.pos] = THREE_DIGITS[from] as number;
    b[this.pos + 1] = THREE_DIGITS[from + 1] as number;
    b[this.pos + 2] = THREE_DIGITS[from + 2] as number;
    this.pos += 3;
  }

  toString(start = 0, end = this.pos): string {
    return this.bytes.toString('utf8', start, end);
  }

  /** Copies the content into a buffer of its own size, letting go of the spare room growth left. */
  fit(): void {
    const next = Buffer.allocUnsafe(this.pos);
    this.bytes.copy(next, 0, 0, this.pos);
    this.bytes = next;
  }

  private grow(min: number): void {
    let size = Math.max(64, this.bytes.length * 2);
    while (size < min) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.bytes.copy(next, 0, 0, this.pos);
    this.bytes = next;
  }
}

const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/**
 * Decimal digits of a non-negative int32, from its bit length (log10(2) ≈ 1233 / 4096) and one
 * comparison. Without a branch per magnitude: each magnitude first seen after V8 had optimised the
 * encoder (counters growing past 99, 999, …) threw that code away.
 */
function digitCount(v: number): number {
  const w = v | 1; // 0 has one digit, like 1; no power of ten is odd, so no boundary moves
  const guess = ((32 - Math.clz32(w)) * 1233) >>> 12;
  return w >= (POWERS_OF_TEN[guess] as number) ? guess + 1 : guess;
}

/** The UTF-8 bytes of a JSON string literal, for fragments encoded once and reused. */
export function jsonStringBytes(text: string): Buffer {
  return Buffer.from(JSON.stringify(text), 'utf8');
}

/** The UTF-8 bytes of `"key":`, for member keys encoded once and reused. */
export function memberKeyBytes(key: string): Buffer {
  return Buffer.from(JSON.stringify(key) + ':', 'utf8');
}
