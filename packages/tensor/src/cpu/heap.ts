// Tensor storage inside the shared WebAssembly memory, and the staging of one call's data.
//
// Kernels work on bytes in WebAssembly memory. Tensors kept in ordinary typed arrays must be copied
// in before each call and the results copied out: a conv2d forward+backward on [16,32,32,32]
// spent ~11 ms of its ~50 ms (two threads) in such copies on the calling thread, time the worker
// threads sit idle. So large float32 tensors live in the memory itself, from RESIDENT_BASE up,
// where kernels read them in place and can write results straight into them. Scratch (`stage`,
// `reserve`) stays below RESIDENT_BASE, from byte 0 as before.
//
// Only where the memory is shared: growing a shared memory leaves old views valid, growing an
// unshared one detaches them. The storage a block holds is still an ordinary Float32Array (a view),
// so the rest of the backend indexes it as any other; the allocator is first fit over a free list
// kept in address order, coalescing on free. The garbage collector does not see bytes in the
// memory, so tensors nobody disposes would not make it collect: the resident bytes are capped
// (`limit`, 256 MiB), beyond which storage falls back to ordinary arrays (whose pressure makes the
// collector run, and its finalizers then return the blocks here).
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { activeThreads, runParallel, splitRange } from './threads.js';
import { RESIDENT_BASE, reserve, wasmState } from './wasm.js';
import { FN } from './worker-source.js';

/**
 * Bytes past the highest block that stay mapped: kernels may read a little past an array's end
 * (a last partial vector; the pooling kernels of @softpool/layers a few values past a plane).
 */
const GUARD = 1024;
/** Arrays smaller than this stay ordinary: copying them is cheap, blocks for them fragment. */
const MIN_BYTES = 16 << 10;

let limit = 256 * 2 ** 20;
let top = RESIDENT_BASE;
let unusable = false;
/** Free stretches in address order: [address, bytes]. */
const free: [number, number][] = [];
/** Live blocks: address -> bytes (a multiple of 16). */
const live = new Map<number, number>();
/** The arrays handed out, so only they free their block. */
const owners = new WeakMap<object, number>();
/** The memory's buffers that resident views were made on (growing makes a new one). */
const buffers = new WeakSet<object>();

function takeFree(bytes: number): number | undefined {
  for (let i = 0; i < free.length; i++) {
    const [at, size] = free[i];
    if (size < bytes) continue;
    if (size === bytes) free.splice(i, 1);
    else free[i] = [at + bytes, size - bytes];
    return at;
  }
  return undefined;
}

function giveBack(at: number, bytes: number): void {
  let i = 0;
  while (i < free.length && free[i][0] < at) i++;
  free.splice(i, 0, [at, bytes]);
  if (i + 1 < free.length && at + bytes === free[i + 1][0]) {
    free[i][1] += free[i + 1][1];
    free.splice(i + 1, 1);
  }
  if (i > 0 && free[i - 1][0] + free[i - 1][1] === at) {
    free[i - 1][1] += free[i][1];
    free.splice(i, 1);
    i--;
  }
  // A free stretch at the top lowers the top, so the cap counts what is in use or in between.
  if (free[i][0] + free[i][1] === top) {
    top = free[i][0];
    free.splice(i, 1);
  }
}

/**
 * A float32 (or int32: max pooling's indices) array of `size` elements in WebAssembly memory
 * (stale contents), or undefined where storage cannot be resident: unshared memory, a small
 * array, the cap reached.
 */
export function residentArray(
  dtype: 'float32' | 'int32',
  size: number,
): Float32Array | Int32Array | undefined {
  const bytes = (size * 4 + 15) & ~15;
  if (unusable || bytes < MIN_BYTES || top - RESIDENT_BASE > limit || !wasmState().shared) return undefined;
  let at = takeFree(bytes);
  if (at === undefined) {
    if (top + bytes - RESIDENT_BASE > limit) return undefined;
    const { memory } = wasmState();
    const need = top + bytes + GUARD;
    if (memory.buffer.byteLength < need) {
      try {
        memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
      } catch {
        // The host would not map more (a 32-bit or strict-commit system): stay with copies.
        unusable = true;
        return undefined;
      }
    }
    at = top;
    top += bytes;
  }
  live.set(at, bytes);
  const { buffer } = wasmState().memory;
  buffers.add(buffer);
  const a = dtype === 'float32' ? new Float32Array(buffer, at, size) : new Int32Array(buffer, at, size);
  owners.set(a, at);
  return a;
}

/** Returns the block of an array `residentArray` made; false for any other array. */
export function freeResident(a: object): boolean {
  const at = owners.get(a);
  if (at === undefined) return false;
  owners.delete(a);
  const bytes = live.get(at)!;
  live.delete(at);
  giveBack(at, bytes);
  return true;
}

/**
 * The byte address of `a` when it starts a live resident block (kernels may then read it, and
 * write a last partial vector into the block's padding, in place); undefined otherwise.
 */
export function residentAddress(a: ArrayBufferView): number | undefined {
  if (!buffers.has(a.buffer)) return undefined;
  const bytes = live.get(a.byteOffset);
  return bytes !== undefined && a.byteLength <= bytes ? a.byteOffset : undefined;
}

/** Bytes the resident blocks span (in use or free between them), and the cap. */
export function residentStats(): { bytes: number; limit: number; blocks: number } {
  return { bytes: top - RESIDENT_BASE, limit, blocks: live.size };
}

/**
 * The byte address in `cpuMemory()` of an array that lives there: a CPU tensor's storage (or a
 * view of it, as `cpuData` and `readContiguous` give) held in WebAssembly memory, which kernels
 * can then read in place instead of copying it in; undefined for ordinary arrays. Write only into
 * arrays of tensors you just made: others share the memory.
 * @example
 * const at = cpuAddress(readContiguous(x)); // a byte address, or undefined: stage a copy
 */
export function cpuAddress(a: ArrayBufferView): number | undefined {
  if (!ArrayBuffer.isView(a))
    throw new ArgumentError(`cpuAddress: expected a typed array, got ${a === null ? 'null' : typeof a}`);
  return buffers.has(a.buffer) && a.byteOffset >= RESIDENT_BASE ? a.byteOffset : undefined;
}

/** The byte address of a contiguous float32 tensor's first element when its storage is resident. */
export function residentInput(t: Tensor): number | undefined {
  if (t.dtype !== 'float32' || !t.isContiguous) return undefined;
  const at = cpuAddress(t.storage.handle as Float32Array);
  return at === undefined ? undefined : at + 4 * t.offset;
}

/** SharedArrayBuffer, or a class nothing is an instance of where there is none. */
const SAB: new () => object = typeof SharedArrayBuffer === 'undefined' ? class {} : SharedArrayBuffer;
/** What fills of other shared float32 arrays copy from (see cpuFill). */
const chunk = new Float32Array(16384);
/** A float's bits as an int (the threads pass integer arguments). */
const bitsF32 = new Float32Array(1);
const bitsI32 = new Int32Array(bitsF32.buffer);
/** Words from which a fill is split over the threads. */
const FILL_PARALLEL_MIN = 1 << 17;

/** A fill bound as `Array.prototype.fill` reads it: negative from the end, clamped to [0, n]. */
function bound(i: number, n: number): number {
  const t = Math.trunc(i) || 0;
  return t < 0 ? Math.max(n + t, 0) : Math.min(t, n);
}

/**
 * `a.fill(value, start, end)`, fast also where `a` is a view of shared memory: V8 fills those
 * element by element with atomic stores, 3.5x as slow as a copy (4 MB: 0.9 ms against 0.26
 * unshared). Views of the kernels' memory (resident storage, scratch) are filled by the fillWords
 * kernel on the threads; other shared arrays copy from a filled plain chunk.
 * @example
 * cpuFill(cpuData(t) as Float32Array, 0); // zero a CPU tensor's storage
 */
export function cpuFill(a: Float32Array, value: number, start = 0, end = a?.length): Float32Array {
  if (!(a instanceof Float32Array))
    throw new ArgumentError(`cpuFill: expected a Float32Array, got ${a === null ? 'null' : typeof a}`);
  if (typeof value !== 'number' || typeof start !== 'number' || typeof end !== 'number')
    throw new ArgumentError('cpuFill: value, start and end must be numbers');
  start = bound(start, a.length);
  end = bound(end, a.length);
  if (end - start < 4096 || !(a.buffer instanceof SAB)) return a.fill(value, start, end);
  if (buffers.has(a.buffer) || a.buffer === wasmState().memory.buffer) {
    bitsF32[0] = value;
    const bits = bitsI32[0];
    const from = a.byteOffset + 4 * start;
    const parts = end - start < FILL_PARALLEL_MIN ? 1 : 2 * activeThreads();
    runParallel(
      splitRange(end - start, parts, 4).map(([w0, w1]) => [FN.fillWords, from + 4 * w0, bits, w1 - w0]),
    );
    return a;
  }
  if (chunk[0] !== value || Object.is(chunk[0], -0) !== Object.is(value, -0)) chunk.fill(value);
  for (let o = start; o < end; o += chunk.length)
    a.set(end - o >= chunk.length ? chunk : chunk.subarray(0, end - o), o);
  return a;
}

/** An output entry for `stage`: `a` itself when resident (kernels write into it), else its length. */
export function output(a: Float32Array): Float32Array | number {
  return residentAddress(a) === undefined ? a.length : a;
}

/** Sets the cap on resident bytes (tests; 0 keeps all new storage ordinary). */
export function setResidentLimit(bytes: number): void {
  limit = bytes;
}

/**
 * Lays out one call's data in WebAssembly memory from word 0: the float64 `consts` first (at byte
 * 0), then each entry in a stretch padded to whole 16-byte vectors (kernels may read and write a
 * last partial vector): an array is copied in (a Uint8Array, as bool data, byte for byte), unless
 * it is resident storage, which the kernels use where it is; a number reserves that many words
 * (an output), undefined reserves none. Returns each entry's byte address, the memory's float32
 * view and a reader of entry i into `to` (nothing to do when `to` is the entry's own resident
 * storage).
 */
export function stage(entries: (Float32Array | Uint8Array | number | undefined)[], consts: number[] = []) {
  const words: number[] = [];
  const at: (number | undefined)[] = entries.map((e) =>
    e instanceof Float32Array ? residentAddress(e) : undefined,
  );
  let total = (2 * consts.length + 3) & ~3;
  entries.forEach((e, i) => {
    words.push(total);
    const w =
      typeof e === 'number' ? e : e instanceof Uint8Array ? Math.ceil(e.length / 4) : (e?.length ?? 0);
    if (at[i] === undefined) total += (w + 3) & ~3;
  });
  const { f32 } = reserve(total);
  new Float64Array(f32.buffer, 0, consts.length).set(consts);
  entries.forEach((e, i) => {
    if (e instanceof Float32Array && at[i] === undefined) f32.set(e, words[i]);
    else if (e instanceof Uint8Array) new Uint8Array(f32.buffer, 4 * words[i], e.length).set(e);
  });
  const bytes = words.map((w, i) => at[i] ?? w * 4);
  return {
    bytes,
    f32,
    read: (i: number, to: Float32Array | Uint8Array) => {
      if (to instanceof Uint8Array) to.set(new Uint8Array(f32.buffer, bytes[i], to.length));
      else if (residentAddress(to) !== bytes[i]) to.set(f32.subarray(bytes[i] / 4, bytes[i] / 4 + to.length));
    },
  };
}
