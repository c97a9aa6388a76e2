// The CPU backend's memory: typed arrays, reclaimed by the garbage collector once freed.
import type { Backend } from '../backend.js';
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { contiguousStrides } from '../shape.js';
import { makeTensor, type Tensor } from '../tensor.js';
import { mapStrided, type Operand } from './codegen.js';

export const cpu: Backend = {
  name: 'cpu',
  allocate: (dtype, size) => allocArray(dtype, size),
  upload: (data, _dtype, owned) => (owned ? data : data.slice()),
  free: () => {},
  read: async (handle, _dtype, offset, size) => (handle as TypedArray).slice(offset, offset + size),
  readSync: (handle, _dtype, offset, size) => (handle as TypedArray).slice(offset, offset + size),
};

/** The typed array behind a CPU tensor (the whole storage; index it with offset and strides). */
export function buf(t: Tensor): TypedArray {
  return t.storage.handle as TypedArray;
}

/** A new zero-filled contiguous CPU tensor. */
export function empty(shape: readonly number[], dtype: DType): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return makeTensor(cpu, allocArray(dtype, n), dtype, shape);
}

/** A tensor as a codegen operand, with its own strides. */
export function operand(t: Tensor): Operand {
  return { data: buf(t), offset: t.offset, strides: t.strides };
}

/** Operand reading `t` broadcast to `shape` (size-1 and missing leading dims get stride 0). */
export function broadcastOperand(t: Tensor, shape: readonly number[]): Operand {
  const lead = shape.length - t.rank;
  const strides = shape.map((d, i) =>
    i < lead || (t.shape[i - lead] === 1 && d !== 1) ? 0 : t.strides[i - lead],
  );
  return { data: buf(t), offset: t.offset, strides };
}

/** The elements of `t` in row-major order: a subarray when contiguous, else a packed copy. */
export function readContiguous(t: Tensor): TypedArray {
  const data = buf(t);
  if (t.isContiguous) return data.subarray(t.offset, t.offset + t.size);
  const out = allocArray(t.dtype, t.size);
  mapStrided('x1', { data: out, offset: 0, strides: contiguousStrides(t.shape) }, [operand(t)], t.shape);
  return out;
}
