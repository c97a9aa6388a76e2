// float32 matrix multiply on the CPU: JS packs A into 4-row panels and a column chunk of B into
// 8-column panels inside WebAssembly memory, the SIMD kernel (wasm/gemm.wat) multiplies them, JS
// unpacks the result. Packing through callbacks lets conv write its im2col matrix straight into
// the kernel's memory, one chunk at a time, without materialising it.
import { residentAddress } from './heap.js';
import { activeThreads, runParallel } from './threads.js';
import { reserve } from './wasm.js';
import { FN } from './worker-source.js';

/** Rows per A panel (the kernel's register tile is MR x NR). */
export const MR = 4;
const NR = 8;
/** The k block of the kernel (its panels of A and B stay in cache while the tile accumulates). */
export const KC = 256;
/** Bytes of packed B (plus its C slice) per column chunk and thread: keeps the working set cache-sized. */
const CHUNK_BYTES = 2 << 20;
/**
 * Bytes of B and C one work item's column block may span: cache-sized (half of a 1-2 MiB L2)
 * because the kernel revisits the block's C tiles once per k block. On one thread of the
 * reference machine a 1024^3 product took 83-86 ms with 512 KiB blocks against 131-136 ms with
 * whole 512-column chunks, in back-to-back processes (a noisy machine: treat as indicative).
 */
const BLOCK_BYTES = 512 << 10;
/**
 * Multiply-adds below which a product stays on the calling thread: waking the workers costs a
 * few microseconds, about what this much arithmetic takes.
 */
const PARALLEL_MIN_MACS = 1 << 18;

/**
 * Writes the panel layout of A: for each MR-row panel p, for each k, MR values (zero past M).
 * `strided` (set by packStridedA) names the matrix it reads: float32 matrices are then copied
 * into WebAssembly memory and packed there by the threads.
 */
export type PackA = ((dst: Float32Array | Float64Array, base: number, M: number, K: number) => void) & {
  strided?: Mat;
};
/**
 * Writes B columns [n0, n0 + nc) as 8-column panels: column a = j - n0 of row k goes to
 * base + (a >> 3) * K * 8 + k * 8 + (a & 7); `ld` is nc rounded up to 8 (slots past nc are 0).
 * A packer that is a WebAssembly call says so in `wasmCall` (the im2col export's arguments for a
 * destination byte address), one that reads a strided matrix in `strided` (as for PackA): then
 * each thread packs the columns it multiplies.
 */
export type PackB = ((
  dst: Float32Array | Float64Array,
  base: number,
  K: number,
  n0: number,
  nc: number,
  ld: number,
) => void) & {
  wasmCall?: (dstByte: number, K: number, n0: number, nc: number) => number[];
  strided?: Mat;
};
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
 * The callbacks get the buffer and word offsets to write or read. Large float32 products split
 * each column chunk into column blocks that the worker threads multiply (threads.ts); every C
 * element sums the same products in the same order whatever the split, so the result does not
 * depend on the thread count.
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
  const threads = float32 && mp * up(N, NR) * K >= PARALLEL_MIN_MACS ? activeThreads() : 1;
  const perThread = Math.floor(CHUNK_BYTES / (4 * Math.max(K, 1)) / NR) * NR;
  const chunk = Math.max(NR, Math.min(up(N, NR), perThread * threads));
  // float32 work lives in wasm memory from `heapStart` on (callers may keep their own data below):
  // the staged copies of strided A and B, packed A, one chunk of packed B, its C.
  // Resident matrices (heap.ts) are packed from where they live, others copied in first.
  const sa = float32 ? staging(packA.strided, M, K) : undefined;
  const sb = float32 ? staging(packB.strided, K, N) : undefined;
  const copyA = sa && sa.at === undefined ? sa.view.length : 0;
  const copyB = sb && sb.at === undefined ? sb.view.length : 0;
  const aSrc = sa?.at ?? heapStart;
  const bSrc = sb?.at ?? heapStart + copyA;
  const aBase = float32 ? heapStart + copyA + copyB : 0;
  const bBase = aBase + mp * K;
  const cBase = bBase + chunk * K;
  const total = cBase + mp * chunk;
  if (!float32 && scratch64.length < total) scratch64 = new Float64Array(total);
  const dst = (): Float32Array | Float64Array => (float32 ? reserve(total).f32 : scratch64);
  if (copyA) dst().set(sa!.view, aSrc);
  if (copyB) dst().set(sb!.view, bSrc);
  if (!sa) packA(dst(), aBase, M, K);
  else
    runParallel(
      blocks(mp / MR, threads, 1).map(([p0, p1]) => {
        const r0 = p0 * MR;
        const rows = Math.min(M, p1 * MR) - r0;
        return [FN.packA, (aSrc + r0 * sa.s0) * 4, (aBase + r0 * K) * 4, rows, K, sa.s0, sa.s1];
      }),
    );
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const nc = Math.min(chunk, N - n0);
    const np = up(nc, NR);
    const h = dst();
    if (!float32) {
      packB(h, bBase, K, n0, nc, np);
      panelGemm64(h as Float64Array, aBase, bBase, cBase, mp, np, K);
    } else {
      if (!packB.wasmCall && !sb) packB(h, bBase, K, n0, nc, np);
      const maxCols = Math.max(NR, Math.floor(BLOCK_BYTES / (4 * (K + mp)) / NR) * NR);
      runParallel(
        blocks(np / NR, threads, Math.ceil(np / maxCols)).map(([p0, p1]) => {
          const [q0, q1] = [p0 * NR, p1 * NR];
          const b = (bBase + q0 * K) * 4;
          const cols = Math.min(nc, q1) - q0;
          const gemmCall = [FN.gemm, aBase * 4, b, (cBase + q0) * 4, mp, q1 - q0, K, KC, np];
          if (sb) return [FN.packB, (bSrc + (n0 + q0) * sb.s1) * 4, b, cols, K, sb.s0, sb.s1, ...gemmCall];
          const pack = packB.wasmCall?.(b, K, n0 + q0, cols);
          return pack ? [FN.im2col, ...pack, ...gemmCall] : gemmCall;
        }),
      );
    }
    unpackC(h, cBase, np, M, n0, nc);
  }
}

/**
 * A float32 matrix view worth packing inside WebAssembly memory: the elements it spans (`view`,
 * strides relative to its start) and, when its storage is resident there, their word address
 * `at` (no copy needed); undefined for other dtypes, negative strides, or views so sparse that a
 * copy would be mostly elements the product never reads.
 */
function staging(
  m: Mat | undefined,
  rows: number,
  cols: number,
): { view: Float32Array; s0: number; s1: number; at?: number } | undefined {
  if (!m || !(m.data instanceof Float32Array) || m.s0 < 0 || m.s1 < 0 || rows === 0 || cols === 0)
    return undefined;
  const span = (rows - 1) * m.s0 + (cols - 1) * m.s1 + 1;
  if (span > 2 * rows * cols + 64) return undefined;
  const base = residentAddress(m.data);
  const view = m.data.subarray(m.offset, m.offset + span);
  return { view, s0: m.s0, s1: m.s1, at: base === undefined ? undefined : base / 4 + m.offset };
}

/**
 * Splits `count` panels into contiguous blocks: at least `min` of them (cache-sized work), and
 * with several threads at least two per thread, so a thread slowed by the machine's other work
 * does not hold the rest up.
 */
function blocks(count: number, threads: number, min: number): [number, number][] {
  const parts = Math.min(count, Math.max(threads === 1 ? 1 : 2 * threads, min));
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++)
    out.push([Math.floor((i * count) / parts), Math.floor(((i + 1) * count) / parts)]);
  return out;
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
  const pack: PackA = (dst, base, M, K) => {
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
  pack.strided = a;
  return pack;
}

export function packStridedB(b: Mat): PackB {
  const pack: PackB = (dst, base, K, n0, nc) => {
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
  pack.strided = b;
  return pack;
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
