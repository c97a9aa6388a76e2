// Convolution geometry shared by the WGSL convolution kernels: the attributes, the parameter words
// (params[1..22], every kernel's `LETS` names them) and sizes.
export interface ConvAttrs {
  stride: number[];
  padBefore: number[];
  padAfter: number[];
  dilation: number[];
  groups: number;
}

/** Spatial values padded to 3 dims (leading dims of size 1, stride 1, no padding). */
function to3(v: readonly number[], fill: number): number[] {
  return [...new Array(3 - v.length).fill(fill), ...v];
}

/** Geometry params shared by the kernels (params[1..22]). */
export function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  yShape: readonly number[],
  a: ConvAttrs,
) {
  const [N, C] = xShape;
  const Co = wShape[0];
  const I = to3(xShape.slice(2), 1);
  const O = to3(yShape.slice(2), 1);
  const K = to3(wShape.slice(2), 1);
  return [
    N,
    C,
    Co,
    a.groups,
    ...I,
    ...O,
    ...K,
    ...to3(a.stride, 1),
    ...to3(a.padBefore, 0),
    ...to3(a.dilation, 1),
  ];
}

const NAMES = 'N C Co G ID IH IW OD OH OW KD KH KW SD SH SW PD PH PW DD DH DW'.split(' ');
export const LETS = `${NAMES.map((n, k) => `let ${n} = params[${k + 1}];`).join(' ')}
  let P = OD * OH * OW; let KK = KD * KH * KW; let cig = C / G; let cog = Co / G;`;

export const size = (shape: readonly number[]) => shape.reduce((p, q) => p * q, 1);

/**
 * WGSL: the input value at tap (kz, ky, kx) of output position (oz, oy, ox), from the channel at
 * `src`; 0 in the padding. Shared by both unfolding kernels (buffer and texture).
 */
export const INPUT_TAP = `
fn inputTap(src: u32, oz: u32, oy: u32, ox: u32, kz: u32, ky: u32, kx: u32) -> f32 {
  ${LETS}
  let z = i32(oz * SD + kz * DD) - i32(PD);
  let y = i32(oy * SH + ky * DH) - i32(PH);
  let x = i32(ox * SW + kx * DW) - i32(PW);
  let inside = z >= 0 && y >= 0 && x >= 0 && z < i32(ID) && y < i32(IH) && x < i32(IW);
  let at = src + (u32(max(z, 0)) * IH + u32(max(y, 0))) * IW + u32(max(x, 0));
  return select(0.0, in0[at], inside);
}`;
