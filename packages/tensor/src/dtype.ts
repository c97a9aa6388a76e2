// The four dtypes, their storage arrays, and the promotion rule binary ops use.

import { BackendError } from './errors.js';

export type DType = 'float32' | 'float64' | 'int32' | 'bool';

/** The typed array that backs each dtype on the CPU (bool is one byte per element, 0 or 1). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface DTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

const ARRAY_CTOR = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const satisfies Record<DType, unknown>;

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Allocates a zero-filled typed array for `size` elements of `dtype`. */
export function allocArray<D extends DType>(dtype: D, size: number): DTypeMap[D] {
  try {
    return new ARRAY_CTOR[dtype](size) as DTypeMap[D];
  } catch (e) {
    // Out of memory (or past the typed-array limit): an error of the library, not a RangeError.
    throw new BackendError(
      `cannot allocate ${size} ${dtype} elements (${size * BYTES_PER_ELEMENT[dtype]} bytes): ${(e as Error).message}`,
    );
  }
}

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype a typed array maps to, or undefined for arrays without a dtype (Int8Array, ...). */
export function dtypeOfArray(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return undefined;
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** The result dtype of combining two tensors: the wider one (bool < int32 < float32 < float64). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The dtype a JS number takes next to a tensor of `dtype` (numbers are "weak", as in PyTorch):
 * it keeps a float tensor's dtype; next to int32 or bool it gives int32 for integers, float32 otherwise.
 */
export function scalarResultType(dtype: DType, value: number): DType {
  if (isFloat(dtype)) return dtype;
  if (!Number.isInteger(value)) return 'float32';
  return 'int32';
}
