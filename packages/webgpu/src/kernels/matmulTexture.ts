// Float32 matmul through textures. Both operands are first packed into rgba32float textures, zero
// padded to whole tiles (so the main loop has no bounds tests and needs no dense copies of views),
// by a packing kernel, or by a plain copy when an operand is already in that layout; then the
// product reads them with textureLoad. Measured on lavapipe (1024^3): 284-367 ms against 837 ms for the
// storage-buffer kernel in matmul.ts, which stays for int32, small products and operands that do
// not fit the texture limits. Tall operands are folded: row r of an operand lives at texel row
// r mod H, in column block r / H (H a power of two, so both are a shift and a mask).
import type { Tensor } from '@softpool/tensor';
import type { WebGPUBackend } from '../backend.js';
import { BATCH, batchStrides } from './matmulBatch.js';

/** Rows and vec4 columns of C per thread (the fastest of the blockings measured on lavapipe). */
const R = 8;
const C = 4;

/** The thread grid of an M x N x K product: row tiles, vec4-column tiles, and K in texels. */
export function tiles(M: number, N: number, K: number): { tm: number; tn: number; K4: number } {
  return { tm: Math.ceil(M / R), tn: Math.ceil(N / 4 / C), K4: Math.ceil(K / 4) };
}

/** Texture rows and texels per row of A (M x K) and B (K x N) for a grid from `tiles`. */
export function operandSizes(g: { tm: number; tn: number; K4: number }) {
  return { a: { rowsPad: g.tm * R, width: g.K4 }, b: { rowsPad: g.K4 * 4, width: g.tn * C } };
}

/** Products below this many multiply-adds keep the buffer kernel (packing costs two dispatches). */
export const TEXTURE_MIN_WORK = 1 << 18;

export interface Packed {
  texture: GPUTexture;
  /** log2 of the rows per fold. */
  shift: number;
}

/**
 * A pooled texture for an operand of `mats` matrices of `rowsPad` rows and `width` texels per row,
 * or undefined if it does not fit the device's texture limits.
 */
export function packedTexture(
  backend: WebGPUBackend,
  mats: number,
  rowsPad: number,
  width: number,
): Packed | undefined {
  const max = backend.device.limits.maxTextureDimension2D;
  const shift = Math.floor(Math.log2(max));
  const rows = mats * rowsPad;
  const folds = Math.ceil(rows / 2 ** shift);
  if (width * folds > max) return undefined;
  return { texture: backend.pool.acquireTexture(width * folds, Math.min(rows, 2 ** shift)), shift };
}

const PACK = `
fn body(i: u32) {
  let w = params[1]; let rp = params[2];
  let x = i % w; let gr = i / w;
  let m = gr / rp; var r = gr % rp;
  // row map (kkp > 0): texture row q * kkp + t holds source row q * kk + t, and zeros for t >= kk
  let kk = params[9]; let kkp = params[10];
  var mapped = true;
  if (kkp > 0u) { let t = r % kkp; mapped = t < kk; r = (r / kkp) * kk + t; }
  let nb = params[11];
  var rem = m;
  var base = params[7];
  for (var d = i32(nb) - 1; d >= 0; d--) {
    let ud = u32(d);
    let n = params[12u + ud];
    base += (rem % n) * params[12u + nb + ud];
    rem = rem / n;
  }
  var v = vec4<f32>();
  if (mapped && r < params[3]) {
    for (var j = 0u; j < 4u; j++) {
      let c = x * 4u + j;
      if (c < params[4]) { v[j] = in0[base + r * params[5] + c * params[6]]; }
    }
  }
  let sh = params[8];
  textureStore(img0, vec2<u32>(x + (gr >> sh) * w, gr & ((1u << sh) - 1u)), v);
}`;

/**
 * Packs the matrices of `t` ([..., rows, cols], any strides) as rowsPad x width texels each.
 * `rowMap` spreads the rows in blocks: kk source rows to every kkp texture rows (zeros after).
 */
export function pack(
  backend: WebGPUBackend,
  t: Tensor,
  rowsPad: number,
  width: number,
  rowMap = { kk: 0, kkp: 0 },
): Packed | undefined {
  const [rows, cols] = t.shape.slice(-2);
  const dims = t.shape.slice(0, -2);
  const mats = dims.reduce((x, y) => x * y, 1);
  const packed = packedTexture(backend, mats, rowsPad, width);
  if (!packed) return undefined;
  // Already in texture layout (dense rows of whole texels, no padding, one fold): a plain copy.
  const asIs =
    t.isContiguous &&
    t.offset % 4 === 0 &&
    rowMap.kkp === 0 &&
    rowsPad === rows &&
    width * 4 === cols &&
    (width * 16) % 256 === 0 &&
    mats * rows <= 2 ** packed.shift;
  if (asIs) {
    backend.copyToTexture(t, packed.texture, width, mats * rows);
    return packed;
  }
  backend.runProgram({
    code: PACK,
    inputs: [t],
    outputs: [],
    params: [
      width,
      rowsPad,
      rows,
      cols,
      ...t.strides.slice(-2),
      t.offset,
      packed.shift,
      rowMap.kk,
      rowMap.kkp,
      dims.length,
      ...dims,
      ...t.strides.slice(0, -2),
    ],
    threads: mats * rowsPad * width,
    storageTextures: [packed.texture],
  });
  return packed;
}

function program(): string {
  const acc: string[] = [];
  const rows: string[] = [];
  const loads: string[] = [];
  const math: string[] = [];
  const store: string[] = [];
  for (let q = 0; q < 4; q++) {
    loads.push(
      `let gb${q} = bk + k * 4u + ${q}u; let bx${q} = (gb${q} >> sh) * BW + c0; let by${q} = gb${q} & mask;`,
    );
    for (let c = 0; c < C; c++)
      loads.push(`let b${q}_${c} = textureLoad(tex1, vec2<u32>(bx${q} + ${c}u, by${q}), 0);`);
  }
  for (let r = 0; r < R; r++) {
    rows.push(`let ga${r} = ma + r0 + ${r}u; let ax${r} = (ga${r} >> sh) * K4; let ay${r} = ga${r} & mask;`);
    math.push(`let x${r} = textureLoad(tex0, vec2<u32>(ax${r} + k, ay${r}), 0);`);
    for (let c = 0; c < C; c++) {
      acc.push(`var c${r}_${c} = vec4<f32>();`);
      math.push(
        `c${r}_${c} += x${r}.x * b0_${c} + x${r}.y * b1_${c} + x${r}.z * b2_${c} + x${r}.w * b3_${c};`,
      );
      const lanes = [0, 1, 2, 3].map(
        (j) => `if (col${c} + ${j}u < N) { out0[o + col${c} + ${j}u] = c${r}_${c}[${j}]; }`,
      );
      store.push(`if (r0 + ${r}u < M) { let o = ob + (r0 + ${r}u) * N; ${lanes.join(' ')} }`);
    }
  }
  const cols = Array.from({ length: C }, (_, c) => `let col${c} = (c0 + ${c}u) * 4u;`);
  return `${BATCH}
fn body(i: u32) {
  let M = params[1]; let N = params[2]; let K4 = params[3]; let tn = params[4]; let tm = params[5];
  let BW = params[7]; let sh = params[9]; let mask = (1u << sh) - 1u;
  let b = i / (tm * tn);
  let t = i % (tm * tn);
  let r0 = (t / tn) * ${R}u;
  let c0 = (t % tn) * ${C}u;
  let mi = batchOffsets(b);
  let ma = mi.x * params[8];
  let bk = mi.y * K4 * 4u;
  ${rows.join('\n  ')}
  ${acc.join(' ')}
  for (var k = 0u; k < K4; k++) {
    ${loads.join('\n    ')}
    ${math.join('\n    ')}
  }
  let ob = b * M * N;
  ${cols.join(' ')}
  ${store.join('\n  ')}
}`;
}

const CODE = program();

/** The product of packed operands (M x N per batch index; operands' matrix indices per batch dim). */
export function matmulPacked(
  backend: WebGPUBackend,
  ta: Packed,
  tb: Packed,
  p: {
    M: number;
    N: number;
    grid: { tm: number; tn: number; K4: number };
    batch: readonly number[];
    aMatrices: readonly number[];
    bMatrices: readonly number[];
    shape: readonly number[];
  },
): Tensor {
  const { tm, tn, K4 } = p.grid;
  const count = p.batch.reduce((x, y) => x * y, 1);
  const [y] = backend.runProgram({
    code: CODE,
    inputs: [],
    outputs: [{ shape: p.shape, dtype: 'float32' }],
    params: [
      p.M,
      p.N,
      K4,
      tn,
      tm,
      K4,
      tn * C,
      tm * R,
      ta.shift,
      0,
      0,
      p.batch.length,
      ...p.batch,
      ...p.aMatrices,
      ...p.bMatrices,
    ],
    threads: count * tm * tn,
    textures: [ta.texture, tb.texture],
  });
  return y;
}

/** Returns scratch textures to the pool (later commands may reuse them: queue order keeps this safe). */
export function releasePacked(backend: WebGPUBackend, ...packed: (Packed | undefined)[]): void {
  for (const t of packed) if (t) backend.pool.releaseTexture(t.texture);
}

/**
 * C = A @ B for float32 operands through packed textures, or undefined when an operand does not fit
 * the device's texture limits (the caller then uses the buffer kernel).
 */
export function matmulTexture(
  backend: WebGPUBackend,
  a: Tensor,
  b: Tensor,
  batch: readonly number[],
  shape: readonly number[],
): Tensor | undefined {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.rank - 1];
  const grid = tiles(M, N, K);
  const size = operandSizes(grid);
  const ta = pack(backend, a, size.a.rowsPad, size.a.width);
  const tb = ta && pack(backend, b, size.b.rowsPad, size.b.width);
  if (!ta || !tb) {
    releasePacked(backend, ta, tb);
    return undefined;
  }
  const y = matmulPacked(backend, ta, tb, {
    M,
    N,
    grid,
    batch,
    aMatrices: batchStrides(a, batch, true),
    bMatrices: batchStrides(b, batch, true),
    shape,
  });
  releasePacked(backend, ta, tb);
  return y;
}
