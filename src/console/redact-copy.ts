import { types } from 'node:util';
import { REDACTED, type KeyRedactor } from '../exporter/redact.ts';

/** What util.inspect prints of a value: the part that must not show a secret. */
export interface PrintScope {
  /** Levels expanded below the top object (util.inspect's `depth`; Infinity for null). */
  depth: number;
  /** Entries printed per array, Map and Set (`maxArrayLength`). */
  maxItems: number;
  /** Non-enumerable properties are printed too (`showHidden`, `%o`). */
  hidden: boolean;
}

/** Thrown when a value is too big to check at a bounded cost: the caller ships a marker instead. */
export class TooLargeToCheck extends Error {}

/** Objects (and entries) looked at per argument, at most. */
const MAX_VISITS = 100_000;

// Intrinsics, taken before the application can patch them (util.inspect uses its own primordials).
const { create, defineProperty, getOwnPropertyNames, getPrototypeOf, keys: ownEnumerableKeys, setPrototypeOf } = Object;
const { deleteProperty, getOwnPropertyDescriptor, ownKeys } = Reflect;
const ArrayPrototype = Array.prototype;
const ObjectPrototype = Object.prototype;
const isArray = Array.isArray;
const mapEntries = Map.prototype.entries;
const mapSet = Map.prototype.set;
const setValues = Set.prototype.values;
const setAdd = Set.prototype.add;
const mapIteratorNext = getPrototypeOf(new Map().entries()).next as (this: Iterator<[unknown, unknown]>) => IteratorResult<[unknown, unknown]>;
const setIteratorNext = getPrototypeOf(new Set().values()).next as (this: Iterator<unknown>) => IteratorResult<unknown>;
const NativeError = Error;

/** Name/value lists whose util.inspect shows their entries (fetch Headers, URLSearchParams): their names are keys too. */
interface EntryList {
  Ctor: new () => object;
  entries: (this: object) => IterableIterator<[string, string]>;
  make: () => object;
  append: (this: object, name: string, value: string) => void;
}
/**
 * Looked up by the tag an instance carries, so that nothing is loaded before one is logged: reading
 * the global `Headers` makes Node load its whole fetch implementation (undici, ~40 ms of CPU at start-up).
 */
const ENTRY_LIST_NAMES = new Set(['Headers', 'URLSearchParams']);
const entryLists = new Map<string, EntryList | null>();

function entryListNamed(name: string): EntryList | undefined {
  let list = entryLists.get(name);
  if (list === undefined) {
    const Ctor = (globalThis as Record<string, unknown>)[name] as (new () => object) | undefined;
    const proto = Ctor?.prototype as Record<string, unknown> | undefined;
    list = Ctor === undefined || typeof proto?.entries !== 'function' || typeof proto.append !== 'function' ? null : { Ctor, entries: proto.entries as EntryList['entries'], make: () => new Ctor(), append: proto.append as EntryList['append'] };
    entryLists.set(name, list);
  }
  return list ?? undefined;
}

const Kind = {
  /** Not walked: no keys util.inspect prints (Date, RegExp, Buffer, typed arrays, boxed primitives, Promise, …). */
  Opaque: 0,
  Ordinary: 1,
  Array: 2,
  Map: 3,
  Set: 4,
  Error: 5,
  EntryList: 6,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * `value` itself when util.inspect, printing it within `scope`, would show no property (string key,
 * Map string key, header name) that `keys` calls sensitive; otherwise a copy that prints the same way
 * (same prototype, so the same class name; same property order and attributes; same sharing and
 * cycles) with the values of those properties replaced by "[REDACTED]". Only what inspect prints is
 * copied; deeper objects are shared. Getters are never called (inspect shows them as [Getter]); a
 * Proxy is read through its traps. May throw (a hostile Proxy, TooLargeToCheck): the caller decides.
 */
export function redactForInspect(value: object, keys: KeyRedactor, scope: PrintScope): unknown {
  const walk = new Walk(keys, scope);
  if (!walk.hasSecret(value, 0)) return value;
  return new Copy(keys, scope).copy(value, 0);
}

function kindOf(value: object): Kind {
  if (isArray(value)) return Kind.Array;
  const proto: unknown = getPrototypeOf(value);
  if (proto === ObjectPrototype || proto === null) return Kind.Ordinary;
  if (types.isMap(value)) return Kind.Map;
  if (types.isSet(value)) return Kind.Set;
  if (types.isNativeError(value)) return Kind.Error;
  if (
    types.isDate(value) ||
    types.isRegExp(value) ||
    types.isBoxedPrimitive(value) ||
    types.isAnyArrayBuffer(value) ||
    types.isArrayBufferView(value) ||
    types.isPromise(value) ||
    types.isWeakMap(value) ||
    types.isWeakSet(value) ||
    types.isMapIterator(value) ||
    types.isSetIterator(value) ||
    types.isGeneratorObject(value) ||
    types.isModuleNamespaceObject(value) ||
    types.isArgumentsObject(value) ||
    types.isExternal(value) ||
    types.isKeyObject(value) ||
    types.isCryptoKey(value)
  ) {
    return Kind.Opaque;
  }
  if (entryListOf(value) !== undefined) return Kind.EntryList;
  if (value instanceof NativeError) return Kind.Error;
  return Kind.Ordinary;
}

function entryListOf(value: object): EntryList | undefined {
  // The tag as a data property of the value's prototype chain (no getter or proxy trap is called).
  let tag: unknown;
  try {
    for (let proto: object | null = getPrototypeOf(value) as object | null, depth = 0; proto !== null && depth < 4 && tag === undefined; proto = getPrototypeOf(proto) as object | null, depth++) {
      tag = Object.getOwnPropertyDescriptor(proto, Symbol.toStringTag)?.value;
    }
  } catch {
    return undefined;
  }
  if (typeof tag !== 'string' || !ENTRY_LIST_NAMES.has(tag)) return undefined;
  const list = entryListNamed(tag);
  if (list === undefined || !(value instanceof list.Ctor)) return undefined;
  try {
    list.entries.call(value); // a brand check: throws for anything but a real instance
    return list;
  } catch {
    return undefined;
  }
}

const isIndex = (key: string): boolean => key.length > 0 && key.charCodeAt(0) >= 48 && key.charCodeAt(0) <= 57 && String(Number(key)) === key;

/** Pass one: is there anything to redact? Reads only, allocates little (descriptors, key lists). */
class Walk {
  private visits = 0;
  private readonly ancestors = new Set<object>();

  private readonly keys: KeyRedactor;
  private readonly scope: PrintScope;

  constructor(keys: KeyRedactor, scope: PrintScope) {
    this.keys = keys;
    this.scope = scope;
  }

  hasSecret(value: unknown, level: number): boolean {
    if (typeof value !== 'object' || value === null || level > this.scope.depth) return false;
    if (this.ancestors.has(value)) return false; // inspect prints [Circular *n]
    const kind = kindOf(value);
    if (kind === Kind.Opaque) return false;
    if (++this.visits > MAX_VISITS) throw new TooLargeToCheck();
    this.ancestors.add(value);
    try {
      switch (kind) {
        case Kind.Array:
          return this.arrayHasSecret(value as unknown[], level);
        case Kind.Map:
          return this.mapHasSecret(value as Map<unknown, unknown>, level) || this.propertiesHaveSecret(value, level, false);
        case Kind.Set:
          return this.setHasSecret(value as Set<unknown>, level) || this.propertiesHaveSecret(value, level, false);
        case Kind.EntryList:
          return this.entriesHaveSecret(value);
        case Kind.Error:
          // inspect prints an error's `cause` and `errors` even when they are not enumerable.
          return this.propertiesHaveSecret(value, level, true);
        default:
          return this.propertiesHaveSecret(value, level, this.scope.hidden);
      }
    } finally {
      this.ancestors.delete(value);
    }
  }

  private propertiesHaveSecret(value: object, level: number, all: boolean, skipIndices = false): boolean {
    const names = all || this.scope.hidden ? getOwnPropertyNames(value) : ownEnumerableKeys(value);
    for (const name of names) {
      if (skipIndices && isIndex(name)) continue;
      if (this.keys.isSensitive(name)) return true;
      const descriptor = getOwnPropertyDescriptor(value, name);
      if (descriptor !== undefined && 'value' in descriptor && this.hasSecret(descriptor.value, level + 1)) return true;
    }
    return false;
  }

  private arrayHasSecret(value: unknown[], level: number): boolean {
    const length = (getOwnPropertyDescriptor(value, 'length')?.value as number | undefined) ?? 0;
    const shown = Math.min(length, this.scope.maxItems);
    for (let i = 0; i < shown; i++) {
      const descriptor = getOwnPropertyDescriptor(value, i);
      if (descriptor !== undefined && 'value' in descriptor && this.hasSecret(descriptor.value, level + 1)) return true;
    }
    // Named properties of an array (a RegExp match's `groups`, …): listing them lists every index
    // too, so only for arrays short enough to be printed whole.
    return length <= this.scope.maxItems && this.propertiesHaveSecret(value, level, false, true);
  }

  private mapHasSecret(value: Map<unknown, unknown>, level: number): boolean {
    const iterator = mapEntries.call(value);
    for (let i = 0; i < this.scope.maxItems; i++) {
      const next = mapIteratorNext.call(iterator);
      if (next.done === true) break;
      const [key, entry] = next.value;
      if (typeof key === 'string' ? this.keys.isSensitive(key) : this.hasSecret(key, level + 1)) return true;
      if (this.hasSecret(entry, level + 1)) return true;
    }
    return false;
  }

  private setHasSecret(value: Set<unknown>, level: number): boolean {
    const iterator = setValues.call(value);
    for (let i = 0; i < this.scope.maxItems; i++) {
      const next = setIteratorNext.call(iterator);
      if (next.done === true) break;
      if (this.hasSecret(next.value, level + 1)) return true;
    }
    return false;
  }

  private entriesHaveSecret(value: object): boolean {
    const list = entryListOf(value);
    if (list === undefined) return false;
    for (const [name] of list.entries.call(value)) if (this.keys.isSensitive(name)) return true;
    return false;
  }
}

/** Pass two, only when pass one found something: the printed part, copied, with the secrets replaced. */
class Copy {
  private visits = 0;
  /** original -> copy: shared objects stay shared, cycles point at the copy (inspect marks them the same). */
  private readonly copies = new Map<object, object>();

  private readonly keys: KeyRedactor;
  private readonly scope: PrintScope;

  constructor(keys: KeyRedactor, scope: PrintScope) {
    this.keys = keys;
    this.scope = scope;
  }

  copy(value: unknown, level: number): unknown {
    if (typeof value !== 'object' || value === null || level > this.scope.depth) return value;
    const done = this.copies.get(value);
    if (done !== undefined) return done;
    const kind = kindOf(value);
    if (kind === Kind.Opaque) return value;
    if (++this.visits > MAX_VISITS) throw new TooLargeToCheck();
    switch (kind) {
      case Kind.Array:
        return this.copyArray(value as unknown[], level);
      case Kind.Map:
        return this.copyMap(value as Map<unknown, unknown>, level);
      case Kind.Set:
        return this.copySet(value as Set<unknown>, level);
      case Kind.EntryList:
        return this.copyEntryList(value);
      case Kind.Error:
        return this.copyError(value, level);
      default: {
        const copy = create(getPrototypeOf(value) as object | null) as object;
        this.copies.set(value, copy);
        this.copyProperties(value, copy, level);
        return copy;
      }
    }
  }

  /** Every own property (symbols and hidden ones too, so showHidden prints the same), values copied within scope. */
  private copyProperties(from: object, to: object, level: number, options: { array?: boolean; error?: boolean } = {}): void {
    for (const key of ownKeys(from)) {
      if (options.array === true && key === 'length') continue;
      const descriptor = getOwnPropertyDescriptor(from, key);
      if (descriptor === undefined) continue;
      if (typeof key === 'string' && this.keys.isSensitive(key)) {
        defineProperty(to, key, { value: REDACTED, writable: true, enumerable: descriptor.enumerable === true, configurable: true });
        continue;
      }
      if (options.error === true && key === 'stack' && !('value' in descriptor)) {
        // V8's stack is an accessor that answers for its own error only: keep the text it gives.
        defineProperty(to, key, { value: Reflect.get(from, key) as unknown, writable: true, enumerable: descriptor.enumerable === true, configurable: true });
        continue;
      }
      if ('value' in descriptor) {
        const beyondShown = options.array === true && typeof key === 'string' && isIndex(key) && Number(key) >= this.scope.maxItems;
        if (!beyondShown) descriptor.value = this.copy(descriptor.value, level + 1);
      }
      defineProperty(to, key, descriptor);
    }
  }

  private copyArray(value: unknown[], level: number): unknown[] {
    const length = (getOwnPropertyDescriptor(value, 'length')?.value as number | undefined) ?? 0;
    const copy = new Array<unknown>(length);
    const proto = getPrototypeOf(value) as object | null;
    if (proto !== ArrayPrototype) setPrototypeOf(copy, proto);
    this.copies.set(value, copy);
    this.copyProperties(value, copy, level, { array: true });
    return copy;
  }

  private copyMap(value: Map<unknown, unknown>, level: number): Map<unknown, unknown> {
    const copy = new Map<unknown, unknown>();
    const proto = getPrototypeOf(value) as object | null;
    if (proto !== Map.prototype) setPrototypeOf(copy, proto);
    this.copies.set(value, copy);
    const iterator = mapEntries.call(value);
    for (let i = 0; ; i++) {
      const next = mapIteratorNext.call(iterator);
      if (next.done === true) break;
      const [key, entry] = next.value;
      if (i >= this.scope.maxItems) mapSet.call(copy, key, entry);
      else if (typeof key === 'string') mapSet.call(copy, key, this.keys.isSensitive(key) ? REDACTED : this.copy(entry, level + 1));
      else mapSet.call(copy, this.copy(key, level + 1), this.copy(entry, level + 1));
    }
    this.copyProperties(value, copy, level);
    return copy;
  }

  private copySet(value: Set<unknown>, level: number): Set<unknown> {
    const copy = new Set<unknown>();
    const proto = getPrototypeOf(value) as object | null;
    if (proto !== Set.prototype) setPrototypeOf(copy, proto);
    this.copies.set(value, copy);
    const iterator = setValues.call(value);
    for (let i = 0; ; i++) {
      const next = setIteratorNext.call(iterator);
      if (next.done === true) break;
      setAdd.call(copy, i >= this.scope.maxItems ? next.value : this.copy(next.value, level + 1));
    }
    this.copyProperties(value, copy, level);
    return copy;
  }

  private copyEntryList(value: object): object {
    const list = entryListOf(value);
    if (list === undefined) return value;
    const copy = list.make();
    const proto = getPrototypeOf(value) as object | null;
    if (proto !== getPrototypeOf(copy)) setPrototypeOf(copy, proto);
    this.copies.set(value, copy);
    for (const [name, entry] of list.entries.call(value)) list.append.call(copy, name, this.keys.isSensitive(name) ? REDACTED : entry);
    return copy;
  }

  private copyError(value: object, level: number): object {
    let copy: object;
    if (types.isNativeError(value)) {
      // A real error, so util.types.isNativeError (and inspect) still say so; its own stack goes.
      copy = new NativeError();
      deleteProperty(copy, 'stack');
      setPrototypeOf(copy, getPrototypeOf(value) as object | null);
    } else {
      copy = create(getPrototypeOf(value) as object | null) as object;
    }
    this.copies.set(value, copy);
    this.copyProperties(value, copy, level, { error: true });
    return copy;
  }
}
