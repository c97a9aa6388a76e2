// WGSL building blocks shared by the kernels: f32/i32 bit patterns for params, the strided
// index walk, scalar math WGSL lacks.
import type { DType } from '@softpool/tensor';

const f32buf = new Float32Array(1);
const u32view = new Uint32Array(f32buf.buffer);

/** The bit pattern of an f32 (params carry u32 words). */
export function f32bits(v: number): number {
  f32buf[0] = v;
  return u32view[0];
}

/** The bit pattern of an i32. */
export function i32bits(v: number): number {
  return v >>> 0;
}

/** WGSL literal of zero in a dtype's element type. */
export function zero(dtype: DType): string {
  return dtype === 'float32' ? '0.0' : dtype === 'int32' ? '0i' : '0u';
}

/** Accurate-enough float32 math missing from WGSL (Abramowitz-Stegun erf: |error| < 1.5e-7). */
export const MATH = `
fn erf_(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return select(-y, y, x >= 0.0);
}
fn tanh_(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - t) / (1.0 + t);
}
// Non-finite values built at run time (WGSL rejects them as constant expressions).
fn bits_(b: u32) -> f32 { return bitcast<f32>(b | (params[0] & 0u)); }
fn nan_() -> f32 { return bits_(0x7fc00000u); }
fn isnan_(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
`;

/**
 * Strided metadata of `count` operands over an output of rank r, in params order: [r, shape[r],
 * then per operand: offset, strides[r]]. `walk(base)` returns WGSL that sets `p0..p{count-1}`
 * for linear index `i`, reading the layout from params starting at `base`.
 */
export function stridedMeta(
  shape: readonly number[],
  operands: { offset: number; strides: readonly number[] }[],
): number[] {
  const out = [shape.length, ...shape];
  for (const o of operands) out.push(o.offset, ...o.strides);
  return out;
}

export function walk(count: number, base: number): string {
  const decl = Array.from(
    { length: count },
    (_, k) => `var p${k} = params[${base}u + 1u + r + ${k}u * (r + 1u)];`,
  ).join('\n  ');
  const step = Array.from(
    { length: count },
    (_, k) => `p${k} += c * params[${base}u + 2u + r + ${k}u * (r + 1u) + ud];`,
  ).join('\n    ');
  return `let r = params[${base}u];
  ${decl}
  var rem = i;
  for (var d = i32(r) - 1; d >= 0; d--) {
    let ud = u32(d);
    let s = params[${base}u + 1u + ud];
    let c = rem % s;
    rem = rem / s;
    ${step}
  }`;
}
