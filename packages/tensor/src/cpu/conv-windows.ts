// Convolution geometry (spatial dims padded to 3) and the JavaScript im2col packer that walks
// input windows straight into gemm panels (float64 and integer convolutions; float32 packs in
// WebAssembly, conv.ts).
import type { ConvAttrs } from '../ops/conv.js';
import type { PackB } from './gemm.js';

/** Conv geometry with spatial dims padded to 3 (leading unit dims). */
export interface Geo {
  N: number;
  C: number;
  Cout: number;
  G: number;
  Cg: number;
  Og: number;
  inSize: number[];
  k: number[];
  out: number[];
  stride: number[];
  pad: number[];
  dil: number[];
  KV: number;
  OV: number;
}

function to3(v: readonly number[], fill: number): number[] {
  return [...new Array<number>(3 - v.length).fill(fill), ...v];
}

export function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  outSpatial: readonly number[],
  a: ConvAttrs,
): Geo {
  const k = to3(wShape.slice(2), 1);
  const out = to3(outSpatial, 1);
  return {
    N: xShape[0],
    C: xShape[1],
    Cout: wShape[0],
    G: a.groups,
    Cg: xShape[1] / a.groups,
    Og: wShape[0] / a.groups,
    inSize: to3(xShape.slice(2), 1),
    k,
    out,
    stride: to3(a.stride, 1),
    pad: to3(a.padBefore, 0),
    dil: to3(a.dilation, 1),
    KV: k[0] * k[1] * k[2],
    OV: out[0] * out[1] * out[2],
  };
}

/** Strides [n, c, z, y, x] of a tensor (a view with any strides), spatial padded to 3 dims. */
export function strides5(shape: readonly number[], strides: readonly number[]): number[] {
  void shape;
  return [strides[0], strides[1], ...to3(strides.slice(2), 0)];
}

/**
 * Walks the im2col matrix of one group row by row. For tap row r and columns [jLo, jHi), calls
 * `seg(j, len, src, x)` once per output row: columns j..j+len-1 read input offset
 * `src + (x + t*strideX) * sX` for t < len, valid where 0 <= x + t*strideX < W; `src` is -1 when
 * the whole run falls in the z/y padding.
 */
export class Windows {
  constructor(
    readonly g: Geo,
    readonly s: number[],
    readonly offset: number,
    readonly group: number,
  ) {}

  rows(
    r: number,
    jLo: number,
    jHi: number,
    seg: (j: number, len: number, src: number, x: number) => void,
  ): void {
    const { g, s } = this;
    const c = this.group * g.Cg + Math.floor(r / g.KV);
    let rem = r % g.KV;
    const kx = rem % g.k[2];
    rem = (rem - kx) / g.k[2];
    const ky = rem % g.k[1];
    const kz = (rem - ky) / g.k[1];
    const [OD, OH, OW] = g.out;
    const [D, H] = g.inSize;
    const dz = kz * g.dil[0] - g.pad[0];
    const dy = ky * g.dil[1] - g.pad[1];
    const dx = kx * g.dil[2] - g.pad[2];
    let j = jLo;
    while (j < jHi) {
      const n = Math.floor(j / g.OV);
      const o = j - n * g.OV;
      const oz = Math.floor(o / (OH * OW));
      const oy = Math.floor((o - oz * OH * OW) / OW);
      const ox = o - oz * OH * OW - oy * OW;
      const len = Math.min(jHi - j, OW - ox);
      const z = oz * g.stride[0] + dz;
      const y = oy * g.stride[1] + dy;
      const valid = z >= 0 && z < D && y >= 0 && y < H;
      seg(
        j,
        len,
        valid ? this.offset + n * s[0] + c * s[1] + z * s[2] + y * s[3] : -1,
        ox * g.stride[2] + dx,
      );
      j += len;
      void OD;
    }
  }

  /**
   * gemm B panels of the im2col matrix: rows = taps, columns = positions (forward), or the
   * transpose (weight gradient: rows = positions, columns = taps). Columns go in blocks of 64
   * so the panels being written stay in cache while every tap row is visited.
   */
  pack(data: ArrayLike<number>, transposed: boolean): PackB {
    const W = this.g.inSize[2];
    const sx = this.g.stride[2];
    const sX = this.s[4];
    return (dst, base, K, n0, nc, ld) => {
      dst.fill(0, base, base + K * ld);
      const panelStride = K * 8;
      const CB = 64;
      for (let b0 = 0; b0 < nc; b0 += CB) {
        const b1 = Math.min(nc, b0 + CB);
        if (!transposed) {
          // Column a (= j - n0) of tap row r goes to panel a >> 3, slot a & 7.
          for (let r = 0; r < K; r++) {
            const row = base + r * 8;
            this.rows(r, n0 + b0, n0 + b1, (j, len, src, x) => {
              if (src < 0) return;
              for (let t = 0, a = j - n0; t < len; t++, a++, x += sx) {
                if (x >>> 0 < W) dst[row + (a >> 3) * panelStride + (a & 7)] = data[src + x * sX];
              }
            });
          }
        } else {
          // Tap a (= r - n0) is a column; positions j are the rows.
          for (let a = b0; a < b1; a++) {
            const col = base + (a >> 3) * panelStride + (a & 7);
            this.rows(n0 + a, 0, K, (j, len, src, x) => {
              if (src < 0) return;
              for (let t = 0; t < len; t++, x += sx)
                if (x >>> 0 < W) dst[col + (j + t) * 8] = data[src + x * sX];
            });
          }
        }
      }
    };
  }
}
