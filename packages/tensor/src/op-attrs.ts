// Every op's attributes, by op name: what its front-end passes to run() and what its kernels and
// gradient rule receive. registerKernel and registerGradient take their attrs type from here, so a
// kernel reading an attribute its op does not have, or an op name with a typo, fails to compile.
// Packages that add ops extend the map by declaration merging, as @softpool/layers does:
//   declare module '@softpool/tensor' { interface OpAttrs { softPool: SoftPoolAttrs } }
import type { DType } from './dtype.js';
import type { ConvAttrs } from './ops/conv.js';
import type { RandomAttrs } from './ops/random.js';
import type { PadMode } from './ops/shape-ops.js';

/** An op without attributes. */
export type NoAttrs = Record<string, never>;
type Reduce = { axes: number[]; keepDim: boolean };
type Axis = { axis: number };

export interface OpAttrs {
  // elementwise (ops/elementwise.ts)
  abs: NoAttrs;
  reluBackward: NoAttrs;
  neg: NoAttrs;
  sign: NoAttrs;
  exp: NoAttrs;
  log: NoAttrs;
  log1p: NoAttrs;
  expm1: NoAttrs;
  sqrt: NoAttrs;
  rsqrt: NoAttrs;
  sin: NoAttrs;
  cos: NoAttrs;
  tanh: NoAttrs;
  sigmoid: NoAttrs;
  relu: NoAttrs;
  erf: NoAttrs;
  square: NoAttrs;
  reciprocal: NoAttrs;
  floor: NoAttrs;
  ceil: NoAttrs;
  round: NoAttrs;
  logicalNot: NoAttrs;
  add: NoAttrs;
  sub: NoAttrs;
  mul: NoAttrs;
  div: NoAttrs;
  pow: NoAttrs;
  maximum: NoAttrs;
  minimum: NoAttrs;
  eq: NoAttrs;
  ne: NoAttrs;
  lt: NoAttrs;
  le: NoAttrs;
  gt: NoAttrs;
  ge: NoAttrs;
  logicalAnd: NoAttrs;
  logicalOr: NoAttrs;
  leakyRelu: { negativeSlope: number };
  gelu: { approximate: 'none' | 'tanh' };
  clamp: { min: number; max: number };
  cast: { dtype: DType };
  where: NoAttrs;
  // reductions (ops/reduce.ts)
  sum: Reduce;
  prod: Reduce;
  max: Reduce;
  min: Reduce;
  all: Reduce;
  any: Reduce;
  argmax: Reduce;
  argmin: Reduce;
  softmax: Axis;
  logSoftmax: Axis;
  logSumExp: Axis & { keepDim: boolean };
  // views (ops/view.ts)
  reshape: { shape: number[] };
  permute: { axes: number[] };
  expand: { shape: number[] };
  slice: { starts: number[]; steps: number[]; shape: number[] };
  sliceBackward: { inputShape: number[]; starts: number[]; steps: number[] };
  contiguous: NoAttrs;
  // shape ops and indexing (ops/shape-ops.ts, ops/indexing.ts)
  concat: Axis;
  pad: { before: number[]; after: number[]; mode: PadMode; value: number };
  padBackward: { inputShape: number[]; before: number[]; after: number[]; mode: PadMode };
  gather: Axis;
  indexSelect: Axis;
  indexAdd: Axis;
  scatterAdd: Axis;
  oneHot: { numClasses: number; dtype: DType };
  // products (ops/linalg.ts, ops/conv.ts)
  matmul: NoAttrs;
  conv: ConvAttrs;
  convBackwardInput: ConvAttrs & { inputShape: number[] };
  convBackwardWeight: ConvAttrs & { weightShape: number[] };
  // creation, random numbers, memory (ops/creation.ts, ops/random.ts, ops/inplace.ts)
  full: { shape: number[]; value: number; dtype: DType };
  rand: RandomAttrs;
  randn: RandomAttrs;
  randint: RandomAttrs & { low: number; high: number };
  bernoulli: RandomAttrs & { p?: number };
  assign: NoAttrs;
  to: { backend: string };
  /** Functions made at runtime by autograd's defineFunction, named 'fn:<name>'. */
  [custom: `fn:${string}`]: Record<string, unknown>;
}

export type OpName = keyof OpAttrs;
