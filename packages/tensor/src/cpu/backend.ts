// The CPU backend's memory: typed arrays. Freed ones are cached for reuse by dtype and length
// (up to a byte limit, evicting those freed longest ago), because a fresh large typed array costs
// page faults and garbage-collector work on every call: 8 MB took ~2 ms fresh against ~0.5 ms
// reused and zeroed on the reference machine, which dominated the memory-bound kernels (pooling,
// elementwise) in training loops.
import type { Backend } from '../backend.js';
import { allocArray, BYTES_PER_ELEMENT, type DType, type TypedArray } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { contiguousStrides, sizeOf } from '../shape.js';
import { makeTensor, type Tensor } from '../tensor.js';
import { mapStrided, type Operand } from './codegen.js';
import { cpuAddress, cpuFill, freeResident, residentArray } from './heap.js';

const cache = new Map<string, TypedArray[]>();
/**
 * Every cached array with its key, oldest first (a Map keeps insertion order): when the cache is
 * full, the arrays freed longest ago make room. Without eviction a cache filled by one phase's sizes
 * (an image of another size, another batch size) served nothing afterwards: SSIM of a 427x640
 * image after three other sizes took 0.36-0.6 s a call, now ~0.12 s.
 */
const order = new Map<TypedArray, string>();
let cachedBytes = 0;
let cacheLimit = 256 * 2 ** 20;

function remove(key: string, list: TypedArray[], a: TypedArray): void {
  list.splice(list.lastIndexOf(a), 1);
  if (list.length === 0) cache.delete(key);
  order.delete(a);
  cachedBytes -= a.byteLength;
}

/** A freed array of this dtype and length from the cache (stale contents), if there is one. */
function takeCached(dtype: DType, size: number): TypedArray | undefined {
  const key = `${dtype}:${size}`;
  const list = cache.get(key);
  if (!list) return undefined;
  const hit = list[list.length - 1];
  remove(key, list, hit);
  return hit;
}

/** Evicts the oldest cached arrays until `bytes` more fit under the limit. */
function makeRoom(bytes: number): void {
  for (const [a, key] of order) {
    if (cachedBytes + bytes <= cacheLimit) return;
    remove(key, cache.get(key)!, a);
  }
}

/** A reused array (stale contents): large float32 and int32 ones live in WebAssembly memory (heap.ts). */
function reuse(dtype: DType, size: number): TypedArray | undefined {
  return (
    (dtype === 'float32' || dtype === 'int32' ? residentArray(dtype, size) : undefined) ??
    takeCached(dtype, size)
  );
}

/** A zero-filled array (new typed arrays are zeroed already). */
function allocate(dtype: DType, size: number): TypedArray {
  const a = reuse(dtype, size);
  if (!a) return allocArray(dtype, size);
  if (a instanceof Float32Array) return cpuFill(a, 0);
  // Zero bits are zero in either type: resident int32 storage fills as floats (cpuFill's kernel).
  if (a instanceof Int32Array && cpuAddress(a) !== undefined)
    cpuFill(new Float32Array(a.buffer, a.byteOffset, a.length), 0);
  else a.fill(0);
  return a;
}

/** Arrays smaller than this are cheap to allocate afresh: caching them would only cost lookups. */
const MIN_CACHED_BYTES = 256;

function free(handle: unknown, dtype: DType, size: number): void {
  const a = handle as TypedArray;
  // A view of the kernels' memory never goes to the cache: its block may be handed out again.
  if (freeResident(a) || cpuAddress(a) !== undefined) return;
  if (
    a.byteLength < MIN_CACHED_BYTES ||
    a.byteLength !== size * BYTES_PER_ELEMENT[dtype] ||
    a.byteLength > cacheLimit
  )
    return;
  makeRoom(a.byteLength);
  const key = `${dtype}:${size}`;
  let list = cache.get(key);
  if (!list) cache.set(key, (list = []));
  list.push(a);
  order.set(a, key);
  cachedBytes += a.byteLength;
}

/**
 * Drops the CPU backend's cache of freed buffers (the garbage collector then reclaims them), and
 * optionally sets how many bytes it may hold (default 256 MiB; 0 turns caching off).
 * @example
 * emptyCache();            // after training, before a memory-hungry phase
 * emptyCache({ limit: 0 }); // never cache
 */
export function emptyCache(options: { limit?: number } = {}): void {
  cache.clear();
  order.clear();
  cachedBytes = 0;
  if (options.limit !== undefined) {
    if (!(options.limit >= 0))
      throw new ArgumentError(`emptyCache: limit must be >= 0 bytes, got ${options.limit}`);
    cacheLimit = options.limit;
  }
}

/** Bytes held by the cache of freed CPU buffers (not counted as live by `memory()`). */
export function cachedMemory(): number {
  return cachedBytes;
}

export const cpu: Backend = {
  name: 'cpu',
  allocate,
  upload: (data, _dtype, owned) => (owned ? data : data.slice()),
  free,
  read: async (handle, _dtype, offset, size) => (handle as TypedArray).slice(offset, offset + size),
  readSync: (handle, _dtype, offset, size) => (handle as TypedArray).slice(offset, offset + size),
};

/** The typed array behind a CPU tensor (the whole storage; index it with offset and strides). */
export function buf(t: Tensor): TypedArray {
  return t.storage.handle as TypedArray;
}

/** A new zero-filled contiguous CPU tensor. */
export function empty(shape: readonly number[], dtype: DType): Tensor {
  return makeTensor(cpu, allocate(dtype, sizeOf(shape)), dtype, shape);
}

/**
 * A new contiguous CPU tensor whose contents are unspecified: for kernels that write every
 * element, which then skip zeroing a reused buffer.
 */
export function emptyUnfilled(shape: readonly number[], dtype: DType): Tensor {
  const n = sizeOf(shape);
  return makeTensor(cpu, reuse(dtype, n) ?? allocArray(dtype, n), dtype, shape);
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

/**
 * Writes the elements of `t` in row-major order into `dst` from index `at` (one pass, also for
 * strided views: no intermediate copy, as readContiguous would make).
 */
export function writeContiguous(t: Tensor, dst: TypedArray, at: number): void {
  if (t.isContiguous) dst.set(buf(t).subarray(t.offset, t.offset + t.size), at);
  // One value expanded (sum's gradient, a full scalar): a fill, ~10x the strided loop.
  else if (t.strides.every((s) => s === 0)) {
    const v = buf(t)[t.offset] as number;
    if (dst instanceof Float32Array) cpuFill(dst, v, at, at + t.size);
    else dst.fill(v as never, at, at + t.size);
  } else
    mapStrided('x1', { data: dst, offset: at, strides: contiguousStrides(t.shape) }, [operand(t)], t.shape);
}

/** The elements of `t` in row-major order: a subarray when contiguous, else a packed copy. */
export function readContiguous(t: Tensor): TypedArray {
  const data = buf(t);
  if (t.isContiguous) return data.subarray(t.offset, t.offset + t.size);
  const out = allocArray(t.dtype, t.size);
  mapStrided('x1', { data: out, offset: 0, strides: contiguousStrides(t.shape) }, [operand(t)], t.shape);
  return out;
}
