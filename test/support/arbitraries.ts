import fc, { type Arbitrary } from 'fast-check';

/** Any JavaScript value fast-check can make, with every exotic kind switched on, under `key`s. */
export function hostileAnything(key: Arbitrary<string> = fc.string({ unit: 'binary', maxLength: 40 })): Arbitrary<unknown> {
  return fc.anything({
    key,
    maxDepth: 4,
    maxKeys: 6,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    stringUnit: 'binary',
  });
}

type MemberKind = 'value' | 'undefined' | 'absent' | 'throws';
const memberKind: Arbitrary<MemberKind> = fc.constantFrom('value', 'undefined', 'absent', 'throws');

/** Gives `target` a member of that kind (an own property; 'absent' deletes it). */
function shapeMember(target: object, key: string, kind: MemberKind, value: unknown): void {
  if (kind === 'absent') {
    Reflect.deleteProperty(target, key);
    return;
  }
  const descriptor: PropertyDescriptor =
    kind === 'throws'
      ? { get: () => { throw new Error(`${key} getter throws`); }, configurable: true, enumerable: false }
      : { value: kind === 'undefined' ? undefined : value, configurable: true, writable: true, enumerable: false };
  Object.defineProperty(target, key, descriptor);
}

/**
 * Objects whose first members are missing, undefined or throw, the shapes that once made the
 * encoder write `{,` (invalid JSON): Errors (own properties or a subclass's getters), typed arrays
 * whose class has no name, class instances with throwing getters. Alone or inside an object.
 */
export function oddlyShaped(): Arbitrary<unknown> {
  const error = fc.tuple(memberKind, memberKind, memberKind, fc.boolean()).map(([name, message, stack, viaSubclass]) => {
    if (viaSubclass) {
      class OddError extends Error {
        override get name(): string {
          if (name === 'throws') throw new Error('name getter throws');
          return (name === 'value' ? 'OddError' : undefined) as unknown as string;
        }
      }
      const e = new OddError('odd');
      shapeMember(e, 'message', message, 'odd');
      shapeMember(e, 'stack', stack, 'OddError: odd');
      return e;
    }
    const e = new Error('odd');
    shapeMember(e, 'name', name, 'Odd');
    shapeMember(e, 'message', message, 'odd');
    shapeMember(e, 'stack', stack, 'Error: odd');
    return e;
  });
  const bytes = fc.tuple(fc.constantFrom('Uint8Array', 'Float64Array', 'DataView'), fc.constantFrom('plain', 'nameless', 'undefinedConstructor', 'throwingConstructor')).map(([kind, odd]) => {
    const view: ArrayBufferView = kind === 'Uint8Array' ? new Uint8Array([1, 2, 3]) : kind === 'Float64Array' ? new Float64Array([1.5]) : new DataView(new ArrayBuffer(4));
    if (odd === 'nameless') Object.defineProperty(view, 'constructor', { value: Object.defineProperty(function () {}, 'name', { value: undefined }) });
    if (odd === 'undefinedConstructor') Object.defineProperty(view, 'constructor', { value: undefined });
    if (odd === 'throwingConstructor') Object.defineProperty(view, 'constructor', { get: () => { throw new Error('constructor getter throws'); } });
    return view;
  });
  const instance = fc.tuple(memberKind, memberKind).map(([first, second]) => {
    const o = new (class Shape {})() as object;
    shapeMember(o, 'first', first, 1);
    shapeMember(o, 'second', second, 'two');
    for (const key of ['first', 'second']) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d !== undefined) Object.defineProperty(o, key, { ...d, enumerable: true });
    }
    return o;
  });
  const one = fc.oneof(error, bytes, instance);
  return fc.oneof(one, one.map((inner) => ({ inner })), fc.tuple(one, one).map(([a, b]) => [a, b]));
}
