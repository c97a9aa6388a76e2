// The CPU backend's WebAssembly kernels (wasm/gemm.wat) and the memory they work in. The memory is
// shared where the host allows it (Node; browsers when cross-origin isolated), so the worker
// threads of threads.ts run the same kernels on the same bytes without copies. Engines with relaxed
// SIMD (browsers since 2023, Node 22+, Node 20 with --experimental-wasm-relaxed-simd) get the
// kernels with fused multiply-adds.
import { ArgumentError, BackendError } from '../errors.js';
import { wasmBase64, wasmRelaxedBase64, wasmSharedBase64, wasmSharedRelaxedBase64 } from './wasm/gemm.gen.js';

/** The exports of wasm/gemm.wat (addresses are byte offsets into the memory). */
export interface WasmKernels {
  gemm: (a: number, b: number, c: number, mp: number, np: number, k: number, kc: number, ldw: number) => void;
  im2col: (...args: number[]) => void;
  packA: (src: number, dst: number, rows: number, k: number, s0: number, s1: number) => void;
  packB: (src: number, dst: number, nc: number, k: number, s0: number, s1: number) => void;
  bnForward: (...args: number[]) => void;
  bnBackward: (...args: number[]) => void;
  col2im: (...args: number[]) => void;
  threefry: (k0: number, k1: number, lo: number, hi: number, n: number, dst: number) => void;
  convDirect: (...args: number[]) => void;
  convDirectWgrad: (...args: number[]) => void;
  dwConv: (...args: number[]) => void;
  dwWgrad: (...args: number[]) => void;
  padRows: (...args: number[]) => void;
  interleave8: (...args: number[]) => void;
  mapBinary: (op: number, a: number, b: number, out: number, n: number, bStep: number) => void;
  mapUnary: (op: number, a: number, out: number, n: number) => void;
  mapReluBackward: (g: number, x: number, out: number, n: number) => void;
  reduceOuterInner: (...args: number[]) => void;
  reduceLeading: (...args: number[]) => void;
  adamStep: (...args: number[]) => void;
  sgdStep: (...args: number[]) => void;
  wgInput: (...args: number[]) => void;
  wgOutput: (...args: number[]) => void;
  wgGrad: (...args: number[]) => void;
  wgForward: (...args: number[]) => void;
  fillWords: (out: number, bits: number, n: number) => void;
  softmaxRows: (...args: number[]) => void;
  argReduce: (...args: number[]) => void;
  mapBinaryRuns: (...args: number[]) => void;
  mapCompare: (...args: number[]) => void;
  mapWhere: (...args: number[]) => void;
  mapLogical: (...args: number[]) => void;
  randomMap: (...args: number[]) => void;
  softmaxCols: (...args: number[]) => void;
  gather4: (...args: number[]) => void;
}

/** The compiled module, its memory and this thread's instance. */
export interface WasmState {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  kernels: WasmKernels;
  /** Whether `memory` is shared, i.e. worker threads can use it. */
  shared: boolean;
  /** Whether the kernels use relaxed SIMD's multiply-add (fused where the CPU has FMA). */
  relaxed: boolean;
}

let state: WasmState | undefined;
let heap = new Float32Array(0);
let heapInt = new Int32Array(0);

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Shared memory needs SharedArrayBuffer, which browsers only give cross-origin isolated pages. */
function canShare(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer !== 'undefined' && g.crossOriginIsolated !== false;
}

/**
 * Whether to use the relaxed-SIMD kernels: where the engine validates them, unless
 * SOFTPOOL_RELAXED_SIMD=0 asks for the portable ones (a fused multiply-add rounds once, so results
 * differ in the last bits between CPUs with and without FMA; the portable kernels give the same
 * bits everywhere).
 */
function useRelaxed(bytes: Uint8Array<ArrayBuffer>): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.SOFTPOOL_RELAXED_SIMD;
  if (env !== undefined && env !== '0' && env !== '1')
    throw new ArgumentError(`SOFTPOOL_RELAXED_SIMD: must be 0 (portable kernels) or 1, got ${env}`);
  return env !== '0' && WebAssembly.validate(bytes);
}

let winogradSetting: boolean | undefined;

/**
 * Whether Winograd convolutions may run: unless SOFTPOOL_WINOGRAD=0 asks for the direct sums
 * (their rounding, and the results of versions before them), as TensorFlow's
 * TF_ENABLE_WINOGRAD_NONFUSED does. Read once; other values are refused.
 */
export function winogradAllowed(): boolean {
  if (winogradSetting === undefined) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
      ?.SOFTPOOL_WINOGRAD;
    if (env !== undefined && env !== '0' && env !== '1')
      throw new ArgumentError(`SOFTPOOL_WINOGRAD: must be 0 (no Winograd convolutions) or 1, got ${env}`);
    winogradSetting = env !== '0';
  }
  return winogradSetting;
}

/** The kernels, compiled on first use (the bytes are small enough for synchronous compilation). */
export function wasmState(): WasmState {
  if (!state) {
    const shared = canShare();
    const fast = decode(shared ? wasmSharedRelaxedBase64 : wasmRelaxedBase64);
    const relaxed = useRelaxed(fast);
    const module = new WebAssembly.Module(relaxed ? fast : decode(shared ? wasmSharedBase64 : wasmBase64));
    // 65536 pages (4 GiB) is wasm32's limit; a shared memory needs a declared maximum.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    state = { module, memory, kernels: instance.exports as unknown as WasmKernels, shared, relaxed };
  }
  return state;
}

/** This thread's kernel exports. */
export function wasm(): WasmKernels {
  return wasmState().kernels;
}

/**
 * Byte address where tensor storage in the memory begins (heap.ts; shared memory only): scratch
 * stays below it.
 */
export const RESIDENT_BASE = 2 ** 30;

/**
 * Grows wasm memory to hold at least `words` 4-byte words of scratch from byte 0 and returns
 * float32 and int32 views of it. Growing replaces the buffer, so callers fetch the views again
 * after every reserve.
 */
export function reserve(words: number): { f32: Float32Array; i32: Int32Array } {
  const { memory, shared } = wasmState();
  const bytes = words * 4;
  const max = shared ? RESIDENT_BASE : 2 ** 32;
  if (bytes > max)
    throw new BackendError(
      `cpu: a kernel needs ${Math.ceil(bytes / 2 ** 20)} MiB of WebAssembly scratch memory, more than ` +
        `the ${max / 2 ** 20} MiB it may use; split the call (e.g. a smaller batch)`,
    );
  if (memory.buffer.byteLength < bytes) {
    try {
      memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    } catch (e) {
      throw new BackendError(
        `cpu: could not grow WebAssembly memory to ${Math.ceil(bytes / 2 ** 20)} MiB of scratch: ${(e as Error).message}`,
      );
    }
  }
  if (heap.buffer !== memory.buffer) {
    heap = new Float32Array(memory.buffer);
    heapInt = new Int32Array(memory.buffer);
  }
  return { f32: heap, i32: heapInt };
}

/**
 * The CPU backend's WebAssembly memory (shared where the host allows it, see `cpuInfo()`): what
 * modules registered with `registerCpuKernels` import as `env.memory`. Kernels stage their data in
 * it for the duration of one call; growing it is allowed, keeping views across calls is not.
 * Where it is shared, large float32 tensors live in it from byte 2^30 up (their arrays are views
 * of it, which kernels may address in place): stage below that.
 */
export function cpuMemory(): CpuMemory {
  return wasmState().memory;
}

/**
 * `WebAssembly.Memory` as these declarations spell it, so they need no DOM or Node types (it is
 * one: pass it as an import). `buffer` is a SharedArrayBuffer when `cpuInfo().sharedMemory`,
 * typed ArrayBuffer as TypeScript types the memory's own.
 */
export interface CpuMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
