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
