// Float32 matmul through textures. Both operands are first packed into rgba32float textures, zero
// padded to whole tiles (so the main loop has no bounds tests and needs no dense copies of views),
// then read with textureLoad. Measured on lavapipe (1024^3): 284-367 ms against 837 ms for the
// storage-buffer kernel in matmul.ts, which stays for int32, small products and operands that do
// not fit the texture limits. Tall operands are folded: row r of an operand lives at texel row
// r mod H, in column block r / H (H a power of two, so both are a shift and a mask).
import type { Tensor } from '@softpool/tensor';
import type { WebGPUBackend } from '../backend.js';
import { BATCH, batchStrides } from './matmulBatch.js';

/** Rows and vec4 columns of C per thread (the fastest of the blockings measured on lavapipe). */
const R = 8;
const C = 4;

/** Products below this many multiply-adds keep the buffer kernel (packing costs two dispatches). */
export const TEXTURE_MIN_WORK = 1 << 18;

interface Packed {
  texture: GPUTexture;
  /** log2 of the rows per fold. */
  shift: number;
}

/** Where an operand of `mats` matrices of `rowsPad` rows and `width` texels per row goes, or undefined if too large. */
function layout(backend: WebGPUBackend, mats: number, rowsPad: number, width: number) {
  const max = backend.device.limits.maxTextureDimension2D;
  const shift = Math.floor(Math.log2(max));
  const rows = mats * rowsPad;
  const folds = Math.ceil(rows / 2 ** shift);
  if (width * folds > max) return undefined;
  return { shift, size: [width * folds, Math.min(rows, 2 ** shift)] as const };
}

const PACK = `
fn body(i: u32) {
  let w = params[1]; let rp = params[2];
  let x = i % w; let gr = i / w;
  let m = gr / rp; let r = gr % rp;
  let nb = params[9];
  var rem = m;
  var base = params[7];
  for (var d = i32(nb) - 1; d >= 0; d--) {
    let ud = u32(d);
    let n = params[10u + ud];
    base += (rem % n) * params[10u + nb + ud];
    rem = rem / n;
  }
  var v = vec4<f32>();
  if (r < params[3]) {
    for (var j = 0u; j < 4u; j++) {
      let c = x * 4u + j;
      if (c < params[4]) { v[j] = in0[base + r * params[5] + c * params[6]]; }
    }
  }
  let sh = params[8];
  textureStore(img0, vec2<u32>(x + (gr >> sh) * w, gr & ((1u << sh) - 1u)), v);
}`;

/** Packs the matrices of `t` ([..., rows, cols], any strides) as rowsPad x width texels each. */
function pack(backend: WebGPUBackend, t: Tensor, rowsPad: number, width: number): Packed | undefined {
  const [rows, cols] = t.shape.slice(-2);
  const dims = t.shape.slice(0, -2);
  const mats = dims.reduce((x, y) => x * y, 1);
  const at = layout(backend, mats, rowsPad, width);
  if (!at) return undefined;
  const texture = backend.pool.acquireTexture(at.size[0], at.size[1]);
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
      at.shift,
      dims.length,
      ...dims,
      ...t.strides.slice(0, -2),
    ],
    threads: mats * rowsPad * width,
    storageTextures: [texture],
  });
  return { texture, shift: at.shift };
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
  const K4 = Math.ceil(K / 4);
  const tm = Math.ceil(M / R);
  const tn = Math.ceil(N / 4 / C);
  const ta = pack(backend, a, tm * R, K4);
  if (!ta) return undefined;
  const tb = pack(backend, b, K4 * 4, tn * C);
  if (!tb || tb.shift !== ta.shift) {
    backend.pool.releaseTexture(ta.texture);
    if (tb) backend.pool.releaseTexture(tb.texture);
    return undefined;
  }
  const count = batch.reduce((x, y) => x * y, 1);
  const [y] = backend.runProgram({
    code: CODE,
    inputs: [],
    outputs: [{ shape, dtype: 'float32' }],
    params: [
      M,
      N,
      K4,
      tn,
      tm,
      K4,
      tn * C,
      tm * R,
      ta.shift,
      0,
      0,
      batch.length,
      ...batch,
      ...batchStrides(a, batch, true),
      ...batchStrides(b, batch, true),
    ],
    threads: count * tm * tn,
    textures: [ta.texture, tb.texture],
  });
  backend.pool.releaseTexture(ta.texture);
  backend.pool.releaseTexture(tb.texture);
  return y;
}
