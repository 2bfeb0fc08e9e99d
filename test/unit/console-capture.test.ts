import { Console } from 'node:console';
import { PassThrough } from 'node:stream';
import { format, inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS } from '../../src/config/exporter-config.ts';
import { consoleMetadata } from '../../src/console/metadata.ts';
import { formatRedacted, UNCHECKED } from '../../src/console/redacted-format.ts';
import { KeyRedactor } from '../../src/exporter/redact.ts';
import { buildTrace, isNodeTrace } from '../../src/console/trace.ts';

// The message a console event ships: util.format's, with sensitive values redacted. Each expectation
// is util.format of the same values written by hand with '[REDACTED]', so "the same bytes, except
// the secrets" is what is checked, not a second formatter of ours.

const keys = new KeyRedactor(DEFAULT_REDACT_KEYS);
const R = '[REDACTED]';

class User {
  name: string;
  password: string;
  constructor(name: string, password: string) {
    this.name = name;
    this.password = password;
  }
}
class Bag extends Map<unknown, unknown> {}

function cyclic(secret: string): Record<string, unknown> {
  const root: Record<string, unknown> = { password: secret, child: {} };
  (root.child as Record<string, unknown>).parent = root;
  return root;
}

function errorWith(props: Record<string, unknown>, cause?: unknown): Error {
  const error = new Error('boom', cause === undefined ? undefined : { cause });
  return Object.assign(error, props);
}

/** [name, console arguments, the same arguments with the secrets redacted by hand] */
const REDACTED_CASES: Array<[string, unknown[], unknown[]]> = [
  ['top-level key', [{ password: 'hunter2', user: 'x' }], [{ password: R, user: 'x' }]],
  ['after a format string', ['user %s', 'x', { token: 't', n: 1 }], ['user %s', 'x', { token: R, n: 1 }]],
  ['nested, as deep as inspect prints', [{ a: { b: { password: 'deep' } } }], [{ a: { b: { password: R } } }]],
  ['suffix and punctuation match', [{ db_password: 'a', 'X-Api-Key': 'b', githubToken: 'c', max_tokens: 5 }], [{ db_password: R, 'X-Api-Key': R, githubToken: R, max_tokens: 5 }]],
  ['a sensitive key holding an object', [{ credentials: { user: 'u', pass: 'p' } }], [{ credentials: R }]],
  ['arrays', [[{ secret: 1 }, 2, [3, { api_key: 'k' }]]], [[{ secret: R }, 2, [3, { api_key: R }]]]],
  ['cycles keep their markers', [cyclic('p')], [cyclic(R)]],
  ['class instances keep their class name', [new User('n', 'p')], [new User('n', R)]],
  ['null prototype', [Object.assign(Object.create(null) as object, { cookie: 'c', a: 1 })], [Object.assign(Object.create(null) as object, { cookie: R, a: 1 })]],
  [
    'Map: string keys are keys, values are walked, subclasses kept',
    [new Bag([['authorization', 'Bearer x'], ['a', { cookie: 'c' }], [1, 2]])],
    [new Bag([['authorization', R], ['a', { cookie: R }], [1, 2]])],
  ],
  ['Set', [new Set([{ passwd: 'z' }, 1])], [new Set([{ passwd: R }, 1])]],
  [
    'built-ins next to a secret are untouched',
    [{ d: new Date(0), b: Buffer.from('x'), u: new Uint8Array(2), r: /x/g, n: 10n, password: 'p' }],
    [{ d: new Date(0), b: Buffer.from('x'), u: new Uint8Array(2), r: /x/g, n: 10n, password: R }],
  ],
  ['%o prints deeper (depth 4)', ['%o', { a: { b: { c: { password: 'o' } } } }], ['%o', { a: { b: { c: { password: R } } } }]],
  ['%O', ['%O', { token: 't' }], ['%O', { token: R }]],
  ['%s prints the top level', ['%s', { password: 's' }], ['%s', { password: R }]],
  ['%j prints everything', ['%j', { a: { b: { c: { d: { token: 'j' } } } } }], ['%j', { a: { b: { c: { d: { token: R } } } } }]],
  ['fetch Headers', [new Headers({ authorization: 'Bearer h', a: 'b' })], [new Headers({ a: 'b', authorization: R })]],
  ['URLSearchParams', [new URLSearchParams('token=abc&x=1')], [new URLSearchParams(`token=${R}&x=1`)]],
  ['long arrays keep "... more items"', [Array.from({ length: 150 }, (_, i) => (i === 5 ? { token: 't' } : i))], [Array.from({ length: 150 }, (_, i) => (i === 5 ? { token: R } : i))]],
];

/** Objects with nothing sensitive where inspect looks: util.format's output, byte for byte. */
const CLEAN_CASES: Array<[string, unknown[]]> = [
  ['strings and numbers', ['a %s %d %i %f %%', 'b', 1, 2.5, 3.5, 'extra']],
  ['plain object', [{ user: 'x', n: 1, nested: { list: [1, 2, { ok: true }] } }]],
  ['secret deeper than inspect prints', [{ a: { b: { c: { password: 'beyond' } } } }]],
  ['secret beyond maxArrayLength', [Array.from({ length: 150 }, (_, i) => (i === 120 ? { token: 't' } : i))]],
  ['secret behind a getter is not read', [Object.defineProperty({ a: 1 }, 'x', { get: () => ({ token: 't' }), enumerable: true })]],
  ['non-enumerable secret (not printed)', [Object.defineProperty({ a: 1 }, 'password', { value: 'p', enumerable: false })]],
  ['class instance', [new (class Point { x = 1; y = 2 })()]],
  ['built-ins', [new Map([['a', 1]]), new Set([1]), new Date(0), Buffer.from('hi'), new Uint8Array(3), /x/g, new Error('e'), Promise.resolve(1), () => 1]],
  ['cycle', [(() => { const o: Record<string, unknown> = { a: 1 }; o.self = o; return o; })()]],
  ['%j cycle', ['%j', (() => { const o: Record<string, unknown> = { token: 't' }; o.self = o; return o; })()]],
  ['%d of an object with a secret (a number is printed)', ['%d', { password: 'p', valueOf: () => 4 }]],
  ['%c consumes its argument', ['%c x', { token: 't' }]],
];

describe('formatRedacted', () => {
  afterEach(() => {
    inspect.defaultOptions.depth = 2;
  });

  it.each(REDACTED_CASES)('%s', (_name, args, expected) => {
    const message = formatRedacted(args, keys);
    expect(message).toBe(format(...expected));
    expect(message).toContain(R);
  });

  it.each(CLEAN_CASES)('%s: same bytes as util.format', (_name, args) => {
    expect(formatRedacted(args, keys)).toBe(format(...args));
  });

  it('formats an object with no secret as it is, without copying it', () => {
    let seen: unknown;
    const object = {
      a: 1,
      [inspect.custom](this: unknown): string {
        seen = this;
        return 'custom';
      },
    };
    expect(formatRedacted(['x', object], keys)).toBe('x custom');
    expect(seen).toBe(object);
  });

  it('does not change the arguments', () => {
    const secret = { password: 'hunter2', nested: { token: 't' } };
    const args = ['%s', secret];
    formatRedacted(args, keys);
    expect(args).toEqual(['%s', { password: 'hunter2', nested: { token: 't' } }]);
    expect(args[1]).toBe(secret);
  });

  it('an Error keeps its stack and class, its properties and cause are redacted', () => {
    class HttpError extends Error {}
    const cause = { token: 'c' };
    const error = Object.assign(new HttpError('failed', { cause }), { config: { headers: { authorization: 'Bearer s' } } });
    const message = formatRedacted([error], keys);
    expect(message).toContain(error.stack);
    expect(message).not.toContain('Bearer s');
    expect(message).not.toContain("'c'");
    expect(message).toBe(format(error).replace("'Bearer s'", `'${R}'`).replace("token: 'c'", `token: '${R}'`));
  });

  it('an Error without a secret is formatted as util.format does', () => {
    const error = errorWith({ code: 'E_X' }, new Error('inner'));
    expect(formatRedacted(['failed:', error], keys)).toBe(format('failed:', error));
  });

  it('follows util.inspect.defaultOptions.depth (a deeper secret is printed, so redacted)', () => {
    const args = [{ a: { b: { c: { d: { password: 'deep' } } } } }];
    inspect.defaultOptions.depth = Infinity;
    expect(formatRedacted(args, keys)).toBe(format({ a: { b: { c: { d: { password: R } } } } }));
  });

  it('a getter with a sensitive name is shown redacted, and never called', () => {
    let called = 0;
    const object = Object.defineProperty({ a: 1 }, 'token', {
      enumerable: true,
      get: () => {
        called++;
        throw new Error('getter ran');
      },
    });
    expect(formatRedacted([object], keys)).toBe(format({ a: 1, token: R }));
    expect(called).toBe(0);
  });

  it('a transparent Proxy is redacted like its target', () => {
    const proxy = new Proxy({ password: 'p', a: 1 }, {});
    expect(formatRedacted([proxy], keys)).toBe(format({ password: R, a: 1 }));
  });

  it('a Proxy whose traps throw: the console call goes on, the argument is not shipped', () => {
    const hostile = new Proxy(
      { password: 'p' },
      {
        ownKeys() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    const revoked = Proxy.revocable({ token: 't' }, {});
    revoked.revoke();
    expect(formatRedacted(['a', hostile, 'b'], keys)).toBe(`a ${UNCHECKED} b`);
    expect(formatRedacted([revoked.proxy], keys)).toBe(UNCHECKED);
  });

  it('a copy whose inspect.custom needs the original: that argument is dropped whole, the rest kept', () => {
    class Private {
      readonly #secret = 's';
      token = 't';
      [inspect.custom](): string {
        return `Private(${this.#secret})`;
      }
    }
    expect(formatRedacted(['a', new Private(), 'b'], keys)).toBe(`a ${R} b`);
  });

  it('a graph too big to check is not shipped', () => {
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 100_001; i++) wide[`k${i}`] = {};
    expect(formatRedacted(['x', wide], keys)).toBe('x [not shipped: too large to check for secrets]');
  });

  it('redactKeys is the list: [] turns redaction off, a custom list replaces the default', () => {
    const object = { password: 'p', ssn: '123' };
    expect(formatRedacted([object], new KeyRedactor([]))).toBe(format(object));
    expect(formatRedacted([object], new KeyRedactor(['ssn']))).toBe(format({ password: 'p', ssn: R }));
  });
});

describe('consoleMetadata', () => {
  it('takes the fields of a last plain-object argument, without calling getters', () => {
    const fields = Object.defineProperty({ password: 'p', user: 'x', __proto__: null } as Record<string, unknown>, 'lazy', {
      enumerable: true,
      get: () => {
        throw new Error('getter ran');
      },
    });
    expect(consoleMetadata(['login', fields], undefined)).toEqual({ password: 'p', user: 'x' });
  });

  it('puts the first Error under error, and the trace frames under stack (ours win over fields)', () => {
    const error = new Error('e');
    expect(consoleMetadata(['failed', error, { error: 'field', a: 1 }], '    at f (x.js:1:1)')).toEqual({ error, a: 1, stack: '    at f (x.js:1:1)' });
  });

  it('nothing to add: undefined (strings, numbers, a class instance or a Proxy last)', () => {
    expect(consoleMetadata(['a', 1], undefined)).toBeUndefined();
    expect(consoleMetadata([new User('n', 'p')], undefined)).toBeUndefined();
    expect(consoleMetadata([new Proxy({ a: 1 }, {})], undefined)).toBeUndefined();
    expect(consoleMetadata([{ a: 1 }, 'last'], undefined)).toBeUndefined();
  });
});

describe('buildTrace', () => {
  const pipe = {};
  const colourTty = { isTTY: true, getColorDepth: () => 8 };
  const monoTty = { isTTY: true, getColorDepth: () => 1 };
  const forceColor = process.env.FORCE_COLOR;
  afterEach(() => {
    if (forceColor === undefined) delete process.env.FORCE_COLOR;
    else process.env.FORCE_COLOR = forceColor;
  });
  // The wrapper stands for console.trace: its frame must not be in the stack.
  function wrapper(stream: unknown, ...args: unknown[]): ReturnType<typeof buildTrace> {
    return buildTrace(args, stream, wrapper);
  }
  function theCaller(stream: unknown, ...args: unknown[]): ReturnType<typeof buildTrace> {
    return wrapper(stream, ...args);
  }

  it('starts the stack at the caller, under a "Trace: <message>" header', () => {
    delete process.env.FORCE_COLOR;
    const trace = theCaller(pipe, 'x %d', 1);
    const stack = String(trace.stack);
    expect(stack.split('\n')[0]).toBe('Trace: x 1');
    expect(stack.split('\n')[1]).toMatch(/^ {4}at theCaller \(/);
    expect(stack).not.toContain('wrapper');
    expect(trace.frames).toBe(stack.slice('Trace: x 1\n'.length));
  });

  it('no arguments: "Trace"', () => {
    const trace = theCaller(pipe);
    // V8 writes "Trace"; vitest's stack hook writes "Trace: " (the e2e tests check what Node prints)
    expect(String(trace.stack).split('\n')[0]).toMatch(/^Trace(: )?$/);
    expect(trace.frames).toMatch(/^ {4}at theCaller \(/);
  });

  it('colours as Node does for stderr: a colour TTY or FORCE_COLOR, never a single string', () => {
    delete process.env.FORCE_COLOR;
    const object = { a: 1 };
    const firstLine = (t: ReturnType<typeof buildTrace>): string => String(t.stack).split('\n')[0] ?? '';
    expect(firstLine(theCaller(colourTty, object))).toBe(`Trace: ${inspect(object, { colors: true })}`);
    expect(firstLine(theCaller(monoTty, object))).toBe(`Trace: ${inspect(object)}`);
    expect(firstLine(theCaller(pipe, object))).toBe(`Trace: ${inspect(object)}`);
    expect(firstLine(theCaller(colourTty, 'just %s'))).toBe('Trace: just %s');
    process.env.FORCE_COLOR = '1';
    expect(firstLine(theCaller(pipe, object))).toBe(`Trace: ${inspect(object, { colors: true })}`);
    process.env.FORCE_COLOR = '0';
    expect(firstLine(theCaller(colourTty, object))).toBe(`Trace: ${inspect(object)}`);
  });
});

describe('isNodeTrace', () => {
  it("recognises Node's own console.trace (a bound method), not a replacement", () => {
    const nodeConsole = new Console({ stdout: new PassThrough(), stderr: new PassThrough() });
    expect(isNodeTrace(nodeConsole.trace)).toBe(true);
    expect(isNodeTrace(function trace() {})).toBe(false);
    expect(isNodeTrace(() => undefined)).toBe(false);
    expect(isNodeTrace(undefined)).toBe(false);
  });
});
