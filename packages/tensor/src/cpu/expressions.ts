// The CPU's elementwise ops as JavaScript expressions (typed so that a missing op is a compile
// error), and the scalar helpers they call. The calling thread compiles them into strided loops
// (codegen.ts); the worker threads compile the costly float ones from the same text (map-wasm.ts
// runs them there), so both give the same bits.
import type { BinaryOp, UnaryOp } from '../ops/elementwise.js';
import { erf } from './math.js';

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

/** Round half to even, as PyTorch (and IEEE) do; Math.round rounds half up. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The helpers the expressions call, by the names they call them. */
export const HELPERS = { sigmoid, geluTanh, roundHalfEven, erf };

/**
 * Source text that defines the helpers THREADED_MAPS' expressions call, for the worker threads:
 * such a helper must refer to nothing but its argument and `Math`, so that its source compiles
 * anywhere (a test runs every threaded op on the workers). `__name` is the one function a
 * transpiler that keeps names (tsx) may insert into function bodies; the caller passes it in.
 */
export function helperSource(): string {
  return Object.entries(HELPERS)
    .filter(([name]) => THREADED_MAPS.some(([, expr]) => expr.includes(`${name}(`)))
    .map(([name, f]) => `const ${name} = (${f.toString()});`)
    .join('\n');
}

/** Expressions over x1 (and params q0, q1). */
export const UNARY = {
  neg: '-x1',
  abs: 'Math.abs(x1)',
  sign: 'Math.sign(x1)',
  relu: 'Math.max(x1, 0)',
  square: 'x1 * x1',
  floor: 'Math.floor(x1)',
  ceil: 'Math.ceil(x1)',
  round: 'roundHalfEven(x1)',
  exp: 'Math.exp(x1)',
  log: 'Math.log(x1)',
  log1p: 'Math.log1p(x1)',
  expm1: 'Math.expm1(x1)',
  sqrt: 'Math.sqrt(x1)',
  rsqrt: '1 / Math.sqrt(x1)',
  sin: 'Math.sin(x1)',
  cos: 'Math.cos(x1)',
  tanh: 'Math.tanh(x1)',
  sigmoid: 'sigmoid(x1)',
  erf: 'erf(x1)',
  reciprocal: '1 / x1',
  gelu: 'q0 ? geluTanh(x1) : 0.5 * x1 * (1 + erf(x1 * Math.SQRT1_2))',
  leakyRelu: 'x1 > 0 ? x1 : x1 * q0',
  logicalNot: '+(x1 === 0)',
} as const satisfies Record<UnaryOp, string>;

/** int32 variants where float arithmetic would lose the wrap-around (products above 2^53). */
export const UNARY_INT: Partial<Record<UnaryOp, string>> = { square: 'Math.imul(x1, x1)' };

export const BINARY = {
  add: 'x1 + x2',
  sub: 'x1 - x2',
  mul: 'x1 * x2',
  div: 'x1 / x2',
  pow: 'Math.pow(x1, x2)',
  maximum: 'Math.max(x1, x2)',
  minimum: 'Math.min(x1, x2)',
  // Comparisons as +(a < b), not a ternary: V8 compiles the ternary to a branch, which random
  // data mispredicts (gt on 301k random floats: 7.0 ms as a ternary, 1.05 ms like this).
  eq: '+(x1 === x2)',
  ne: '+(x1 !== x2)',
  lt: '+(x1 < x2)',
  le: '+(x1 <= x2)',
  gt: '+(x1 > x2)',
  ge: '+(x1 >= x2)',
  logicalAnd: '+(x1 !== 0) & +(x2 !== 0)',
  logicalOr: '+(x1 !== 0) | +(x2 !== 0)',
} as const satisfies Record<BinaryOp, string>;

export const BINARY_INT: Partial<Record<BinaryOp, string>> = { mul: 'Math.imul(x1, x2)' };

/**
 * The float ops whose JavaScript loop costs about 10 ns an element or more on the reference
 * machine (Math's functions, and branches that random values mispredict): large contiguous
 * float32 ones are split over the worker threads. Cheaper ones (floor: 3 ns) would spend more on
 * copying in and out than the threads save; exp, sigmoid, tanh, expm1, erf and gelu have
 * WebAssembly kernels (map-wasm.ts). An op's number is its index here.
 */
export const THREADED_MAPS = [
  ['sign', UNARY.sign],
  ['round', UNARY.round],
  ['log', UNARY.log],
  ['log1p', UNARY.log1p],
  ['sin', UNARY.sin],
  ['cos', UNARY.cos],
  ['leakyRelu', UNARY.leakyRelu],
  ['pow', BINARY.pow],
] as const;
