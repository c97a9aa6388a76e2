// float32 matrix multiply on the CPU: JS packs A into 4-row panels and a column chunk of B into
// 8-column panels inside WebAssembly memory, the SIMD kernel (wasm/gemm.wat) multiplies them, JS
// unpacks the result. Packing through callbacks lets conv write its im2col matrix straight into
// the kernel's memory, one chunk at a time, without materialising it.
import { wasmBase64 } from './wasm/gemm.gen.js';

/** Rows per A panel (the kernel's register tile is MR x NR). */
export const MR = 4;
const NR = 8;
const KC = 256;
/** Bytes of packed B (plus its C slice) per column chunk: keeps the working set cache-sized. */
const CHUNK_BYTES = 2 << 20;

/** The exports of wasm/gemm.wat (addresses are byte offsets into `memory`). */
export interface WasmKernels {
  memory: WebAssembly.Memory;
  gemm: (a: number, b: number, c: number, mp: number, np: number, k: number, kc: number) => void;
  im2col: (...args: number[]) => void;
}

let module: WasmKernels | undefined;
let heap = new Float32Array(0);
let heapInt = new Int32Array(0);

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The kernel module, compiled on first use (the bytes are small enough for synchronous compilation). */
export function wasm(): WasmKernels {
  if (!module) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(decode(wasmBase64)), {});
    module = instance.exports as unknown as WasmKernels;
  }
  return module;
}

/**
 * Grows wasm memory to hold at least `words` 4-byte words and returns float32 and int32 views of
 * it. Growing detaches earlier views, so callers fetch them again after every reserve.
 */
export function reserve(words: number): { f32: Float32Array; i32: Int32Array } {
  const m = wasm();
  const bytes = words * 4;
  if (m.memory.buffer.byteLength < bytes)
    m.memory.grow(Math.ceil((bytes - m.memory.buffer.byteLength) / 65536));
  if (heap.buffer !== m.memory.buffer) {
    heap = new Float32Array(m.memory.buffer);
    heapInt = new Int32Array(m.memory.buffer);
  }
  return { f32: heap, i32: heapInt };
}

/** Writes the panel layout of A: for each MR-row panel p, for each k, MR values (zero past M). */
export type PackA = (dst: Float32Array | Float64Array, base: number, M: number, K: number) => void;
/**
 * Writes B columns [n0, n0 + nc) as 8-column panels: column a = j - n0 of row k goes to
 * base + (a >> 3) * K * 8 + k * 8 + (a & 7); `ld` is nc rounded up to 8 (slots past nc are 0).
 */
export type PackB = (
  dst: Float32Array | Float64Array,
  base: number,
  K: number,
  n0: number,
  nc: number,
  ld: number,
) => void;
/** Reads C columns [n0, n0 + nc) from `src` (row-major with row length `ldc`). */
export type UnpackC = (
  src: Float32Array | Float64Array,
  base: number,
  ldc: number,
  M: number,
  n0: number,
  nc: number,
) => void;

const up = (n: number, m: number): number => Math.ceil(n / m) * m;

/** Scratch for the float64 path (plain JS arrays; the SIMD kernel is float32 only). */
let scratch64 = new Float64Array(0);

/** The float64 twin of the SIMD kernel over the same panel layouts, in plain JS. */
function panelGemm64(
  h: Float64Array,
  a: number,
  b: number,
  c: number,
  mp: number,
  np: number,
  K: number,
): void {
  const acc = new Float64Array(MR * NR);
  for (let p = 0; p < mp; p += MR) {
    for (let q = 0; q < np; q += NR) {
      acc.fill(0);
      for (let k = 0, ai = a + p * K, bi = b + q * K; k < K; k++, ai += MR, bi += NR) {
        for (let r = 0; r < MR; r++) {
          const av = h[ai + r];
          for (let col = 0; col < NR; col++) acc[r * NR + col] += av * h[bi + col];
        }
      }
      for (let r = 0; r < MR; r++)
        for (let col = 0; col < NR; col++) h[c + (p + r) * np + q + col] = acc[r * NR + col];
    }
  }
}

/**
 * C[M,N] = A[M,K] @ B[K,N] through packing callbacks: float32 on the SIMD kernel, anything
 * else in float64 arithmetic (results are stored, and rounded or wrapped, by `unpackC`).
 * The callbacks get the buffer and word offsets to write or read.
 */
export function gemmPacked(
  M: number,
  N: number,
  K: number,
  packA: PackA,
  packB: PackB,
  unpackC: UnpackC,
  float32 = true,
  heapStart = 0,
): void {
  if (M === 0 || N === 0) return;
  const mp = up(M, MR);
  const chunk = Math.max(NR, Math.min(up(N, NR), Math.floor(CHUNK_BYTES / (4 * Math.max(K, 1)) / NR) * NR));
  // float32 work lives in wasm memory from `heapStart` on (callers may keep their own data below).
  const aBase = float32 ? heapStart : 0;
  const bBase = aBase + mp * K;
  const cBase = bBase + chunk * K;
  const total = cBase + mp * chunk;
  if (!float32 && scratch64.length < total) scratch64 = new Float64Array(total);
  const dst = (): Float32Array | Float64Array => (float32 ? reserve(total).f32 : scratch64);
  packA(dst(), aBase, M, K);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nc = Math.min(chunk, N - n0);
    const np = up(nc, NR);
    const h = dst();
    packB(h, bBase, K, n0, nc, np);
    if (float32) wasm().gemm(aBase * 4, bBase * 4, cBase * 4, mp, np, K, KC);
    else panelGemm64(h as Float64Array, aBase, bBase, cBase, mp, np, K);
    unpackC(h, cBase, np, M, n0, nc);
  }
}

/** A strided 2-D view: element (i, j) is data[offset + i * s0 + j * s1]. */
export interface Mat {
  data: ArrayLike<number>;
  offset: number;
  s0: number;
  s1: number;
}

/** A strided 2-D output view. */
export interface OutMat {
  data: Float32Array | Float64Array | Int32Array;
  offset: number;
  s0: number;
  s1: number;
}

export function packStridedA(a: Mat): PackA {
  return (dst, base, M, K) => {
    const { data, offset, s0, s1 } = a;
    for (let p = 0; p < M; p += MR) {
      const panel = base + p * K;
      for (let r = 0; r < MR; r++) {
        const row = p + r;
        if (row >= M) {
          for (let k = 0; k < K; k++) dst[panel + k * MR + r] = 0;
          continue;
        }
        let src = offset + row * s0;
        for (let k = 0; k < K; k++, src += s1) dst[panel + k * MR + r] = data[src];
      }
    }
  };
}

export function packStridedB(b: Mat): PackB {
  return (dst, base, K, n0, nc) => {
    const { data, offset, s0, s1 } = b;
    for (let q = 0; q < nc; q += NR) {
      const panel = base + q * K;
      const cols = Math.min(NR, nc - q);
      for (let k = 0; k < K; k++) {
        const src = offset + k * s0 + (n0 + q) * s1;
        const d = panel + k * NR;
        let c = 0;
        for (; c < cols; c++) dst[d + c] = data[src + c * s1];
        for (; c < NR; c++) dst[d + c] = 0;
      }
    }
  };
}

export function unpackStridedC(c: OutMat): UnpackC {
  return (src, base, ldc, M, n0, nc) => {
    const { data, offset, s0, s1 } = c;
    for (let m = 0; m < M; m++) {
      const from = base + m * ldc;
      const to = offset + m * s0 + n0 * s1;
      if (s1 === 1) data.set(src.subarray(from, from + nc), to);
      else for (let n = 0; n < nc; n++) data[to + n * s1] = src[from + n];
    }
  };
}

/** C = A @ B for strided 2-D views: float32 on the SIMD kernel, other dtypes in float64. */
export function gemm(M: number, N: number, K: number, a: Mat, b: Mat, c: OutMat): void {
  gemmPacked(M, N, K, packStridedA(a), packStridedB(b), unpackStridedC(c), c.data instanceof Float32Array);
}
