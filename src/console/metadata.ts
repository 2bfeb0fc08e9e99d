import { types } from 'node:util';

const { getOwnPropertyDescriptor, getPrototypeOf } = Reflect;
const ObjectPrototype = Object.prototype;
const NativeError = Error;

/**
 * The metadata of a console event, where the arguments have structure to keep (the exporter makes it
 * safe and redacts it, as for any metadata):
 * - the last argument, when it is a plain object: its own enumerable data fields (getters are not called);
 * - `error`: the first argument that is an Error;
 * - `stack`: the frames of console.trace.
 * The last two win over fields of the same name. undefined when there is none (nothing allocated).
 */
export function consoleMetadata(args: readonly unknown[], stack: string | undefined): Record<string, unknown> | undefined {
  let metadata: Record<string, unknown> | undefined;
  const last = args.length === 0 ? undefined : args[args.length - 1];
  if (isPlainObject(last)) {
    for (const key of Object.keys(last)) {
      const descriptor = getOwnPropertyDescriptor(last, key);
      if (descriptor === undefined || !('value' in descriptor)) continue;
      metadata ??= {};
      // defineProperty: a field named __proto__ stays a field
      Object.defineProperty(metadata, key, { value: descriptor.value, writable: true, enumerable: true, configurable: true });
    }
  }
  // An index loop: no iterator on the path of every console call.
  for (let i = 0; i < args.length; i++) {
    if (isError(args[i])) {
      metadata ??= {};
      metadata.error = args[i];
      break;
    }
  }
  if (stack !== undefined) {
    metadata ??= {};
    metadata.stack = stack;
  }
  return metadata;
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || types.isProxy(value)) return false;
  const proto: unknown = getPrototypeOf(value);
  return proto === ObjectPrototype || proto === null;
}

function isError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || types.isProxy(value)) return false;
  return types.isNativeError(value) || value instanceof NativeError;
}
