// Tensor methods. Free functions are the source of truth; every method here delegates to one, so
// `x.relu()` and `relu(x)` can never disagree. Reading methods live here too.

import { getBackend } from './backend.js';
import { type BackwardOptions, gradRecorder, run } from './dispatch.js';
import type { DType, TypedArray } from './dtype.js';
import { BackendError, ShapeError } from './errors.js';
import { formatTensor } from './format.js';
import * as ew from './ops/elementwise.js';
import * as ix from './ops/indexing.js';
import * as ip from './ops/inplace.js';
import * as la from './ops/linalg.js';
import * as rd from './ops/reduce.js';
import * as so from './ops/shape-ops.js';
import type { TensorLike } from './ops/util.js';
import * as vw from './ops/view.js';
import { maybeYield } from './safety-net.js';
import type { Shape } from './shape.js';
import { makeTensor, type NestedArray, Tensor } from './tensor.js';

// ---- reading --------------------------------------------------------------------------------

function readSyncOrThrow(t: Tensor, op: string): TypedArray {
  t.assertAlive(op);
  const b = t.backend;
  if (!b.readSync) {
    throw new BackendError(
      `${op}: backend '${b.name}' reads asynchronously; use await t.${op.replace('Sync', '')}() instead`,
    );
  }
  const c = vw.contiguous(t);
  const out = b.readSync(c.storage.handle, c.dtype, c.offset, c.size);
  if (c !== t) c.dispose();
  return out;
}

async function readAsync(t: Tensor, op: string): Promise<TypedArray> {
  t.assertAlive(op);
  const c = vw.contiguous(t);
  try {
    return await c.backend.read(c.storage.handle, c.dtype, c.offset, c.size);
  } finally {
    if (c !== t) c.dispose();
    // Awaiting a read is where loops without scope() let the safety net's finalizers run.
    await maybeYield();
  }
}

function nest(values: TypedArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return values[0];
  const rec = (dim: number, offset: number, stride: number): NestedArray[] => {
    const n = shape[dim];
    const inner = stride / Math.max(n, 1);
    return Array.from({ length: n }, (_, i) =>
      dim === shape.length - 1 ? values[offset + i] : rec(dim + 1, offset + i * inner, inner),
    );
  };
  return rec(0, 0, values.length);
}

function checkItem(t: Tensor, op: string): void {
  t.assertAlive(op);
  if (t.size !== 1)
    throw new ShapeError(`${op}: only one-element tensors have an item, got shape [${t.shape.join(',')}]`);
}

/**
 * Every method a Tensor has beyond its class body. tensor.ts merges this class into Tensor's
 * interface (`interface Tensor extends TensorMethods`) and the loop below copies its methods onto
 * Tensor.prototype, so each method is declared once, here, and type-checked against the free
 * function it calls. (A class rather than an object literal: its type comes from the signatures
 * alone, which the recursive Tensor type needs.) Never constructed.
 */
export abstract class TensorMethods {
  /** Elements in row-major order (a copy), whatever the layout. */
  data(this: Tensor): Promise<TypedArray> {
    return readAsync(this, 'data');
  }
  /** Synchronous `data()`, for backends that can read synchronously (the CPU). */
  dataSync(this: Tensor): TypedArray {
    return readSyncOrThrow(this, 'dataSync');
  }
  /** Nested arrays of numbers (bool as 0/1). */
  async array(this: Tensor): Promise<NestedArray> {
    return nest(await readAsync(this, 'array'), this.shape);
  }
  arraySync(this: Tensor): NestedArray {
    return nest(readSyncOrThrow(this, 'arraySync'), this.shape);
  }
  /** The value of a one-element tensor. */
  async item(this: Tensor): Promise<number> {
    checkItem(this, 'item');
    return (await readAsync(this, 'item'))[0];
  }
  itemSync(this: Tensor): number {
    checkItem(this, 'itemSync');
    return readSyncOrThrow(this, 'itemSync')[0];
  }
  /** This tensor on another backend (itself when already there). Differentiable. */
  to(this: Tensor, backend: string): Tensor {
    this.assertAlive('to');
    if (this.device === backend) return this;
    return run('to', [this], { backend });
  }
  /** `to` for backends that only read asynchronously (WebGPU -> CPU). */
  async toAsync(this: Tensor, backend: string): Promise<Tensor> {
    this.assertAlive('toAsync');
    if (this.device === backend) return this;
    if (this.backend.readSync) return run('to', [this], { backend });
    const target = getBackend(backend);
    const values = await readAsync(this, 'toAsync');
    return makeTensor(target, target.upload(values, this.dtype, true), this.dtype, this.shape);
  }
  toString(this: Tensor): string {
    if (this.isDisposed) return `tensor(<disposed>, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
    return formatTensor(this, this.backend.readSync ? readSyncOrThrow(this, 'toString') : undefined);
  }

  /** Transpose of the last two dims. */
  get T(): Tensor {
    // A getter cannot declare `this: Tensor`; on Tensor.prototype `this` is always a Tensor.
    return vw.transpose(this as unknown as Tensor);
  }

  // ---- autograd entry points (implemented by @softpool/autograd through the recorder) ------------
  /**
   * Backpropagates from this tensor (scalars need no `gradient`): fills `.grad` of the leaves
   * that require grad. Needs @softpool/autograd loaded.
   */
  backward(this: Tensor, gradient?: Tensor | BackwardOptions, options: BackwardOptions = {}): void {
    const isTensor = gradient instanceof Tensor;
    gradRecorder('backward').backward(
      this,
      isTensor ? gradient : undefined,
      isTensor ? options : { ...gradient, ...options },
    );
  }
  /** Asks backward to fill `.grad` of this non-leaf tensor too. */
  retainGrad<T extends Tensor>(this: T): T {
    gradRecorder('retainGrad').retainGrad(this);
    return this;
  }

  // ---- ops: each method calls its free function with `this` first -------------------------------
  add(this: Tensor, other: TensorLike): Tensor {
    return ew.add(this, other);
  }
  sub(this: Tensor, other: TensorLike): Tensor {
    return ew.sub(this, other);
  }
  mul(this: Tensor, other: TensorLike): Tensor {
    return ew.mul(this, other);
  }
  div(this: Tensor, other: TensorLike): Tensor {
    return ew.div(this, other);
  }
  pow(this: Tensor, other: TensorLike): Tensor {
    return ew.pow(this, other);
  }
  maximum(this: Tensor, other: TensorLike): Tensor {
    return ew.maximum(this, other);
  }
  minimum(this: Tensor, other: TensorLike): Tensor {
    return ew.minimum(this, other);
  }
  eq(this: Tensor, other: TensorLike): Tensor {
    return ew.eq(this, other);
  }
  ne(this: Tensor, other: TensorLike): Tensor {
    return ew.ne(this, other);
  }
  lt(this: Tensor, other: TensorLike): Tensor {
    return ew.lt(this, other);
  }
  le(this: Tensor, other: TensorLike): Tensor {
    return ew.le(this, other);
  }
  gt(this: Tensor, other: TensorLike): Tensor {
    return ew.gt(this, other);
  }
  ge(this: Tensor, other: TensorLike): Tensor {
    return ew.ge(this, other);
  }
  logicalAnd(this: Tensor, other: TensorLike): Tensor {
    return ew.logicalAnd(this, other);
  }
  logicalOr(this: Tensor, other: TensorLike): Tensor {
    return ew.logicalOr(this, other);
  }
  logicalNot(this: Tensor): Tensor {
    return ew.logicalNot(this);
  }
  neg(this: Tensor): Tensor {
    return ew.neg(this);
  }
  abs(this: Tensor): Tensor {
    return ew.abs(this);
  }
  sign(this: Tensor): Tensor {
    return ew.sign(this);
  }
  exp(this: Tensor): Tensor {
    return ew.exp(this);
  }
  log(this: Tensor): Tensor {
    return ew.log(this);
  }
  log1p(this: Tensor): Tensor {
    return ew.log1p(this);
  }
  expm1(this: Tensor): Tensor {
    return ew.expm1(this);
  }
  sqrt(this: Tensor): Tensor {
    return ew.sqrt(this);
  }
  rsqrt(this: Tensor): Tensor {
    return ew.rsqrt(this);
  }
  sin(this: Tensor): Tensor {
    return ew.sin(this);
  }
  cos(this: Tensor): Tensor {
    return ew.cos(this);
  }
  tanh(this: Tensor): Tensor {
    return ew.tanh(this);
  }
  sigmoid(this: Tensor): Tensor {
    return ew.sigmoid(this);
  }
  relu(this: Tensor): Tensor {
    return ew.relu(this);
  }
  erf(this: Tensor): Tensor {
    return ew.erf(this);
  }
  square(this: Tensor): Tensor {
    return ew.square(this);
  }
  reciprocal(this: Tensor): Tensor {
    return ew.reciprocal(this);
  }
  floor(this: Tensor): Tensor {
    return ew.floor(this);
  }
  ceil(this: Tensor): Tensor {
    return ew.ceil(this);
  }
  round(this: Tensor): Tensor {
    return ew.round(this);
  }
  leakyRelu(this: Tensor, options?: { negativeSlope?: number }): Tensor {
    return ew.leakyRelu(this, options);
  }
  gelu(this: Tensor, options?: { approximate?: 'none' | 'tanh' }): Tensor {
    return ew.gelu(this, options);
  }
  clamp(this: Tensor, min?: TensorLike | null, max?: TensorLike | null): Tensor {
    return ew.clamp(this, min, max);
  }
  cast(this: Tensor, dtype: DType): Tensor {
    return ew.cast(this, dtype);
  }
  sum(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.sum(this, axis, options);
  }
  prod(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.prod(this, axis, options);
  }
  mean(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.mean(this, axis, options);
  }
  max(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.max(this, axis, options);
  }
  min(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.min(this, axis, options);
  }
  all(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.all(this, axis, options);
  }
  any(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.any(this, axis, options);
  }
  argmax(this: Tensor, axis?: number, options?: { keepDim?: boolean }): Tensor {
    return rd.argmax(this, axis, options);
  }
  argmin(this: Tensor, axis?: number, options?: { keepDim?: boolean }): Tensor {
    return rd.argmin(this, axis, options);
  }
  var(
    this: Tensor,
    axis?: number | readonly number[] | rd.VarianceOptions,
    options?: rd.VarianceOptions,
  ): Tensor {
    return rd.variance(this, axis, options);
  }
  std(
    this: Tensor,
    axis?: number | readonly number[] | rd.VarianceOptions,
    options?: rd.VarianceOptions,
  ): Tensor {
    return rd.std(this, axis, options);
  }
  logSumExp(this: Tensor, axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor {
    return rd.logSumExp(this, axis, options);
  }
  softmax(this: Tensor, axis?: number): Tensor {
    return rd.softmax(this, axis);
  }
  logSoftmax(this: Tensor, axis?: number): Tensor {
    return rd.logSoftmax(this, axis);
  }
  reshape(this: Tensor, shape: Shape): Tensor {
    return vw.reshape(this, shape);
  }
  view(this: Tensor, shape: Shape): Tensor {
    return vw.view(this, shape);
  }
  permute(this: Tensor, axes: readonly number[]): Tensor {
    return vw.permute(this, axes);
  }
  transpose(this: Tensor, dim0?: number, dim1?: number): Tensor {
    return vw.transpose(this, dim0, dim1);
  }
  expand(this: Tensor, shape: Shape): Tensor {
    return vw.expand(this, shape);
  }
  broadcastTo(this: Tensor, shape: Shape): Tensor {
    return vw.broadcastTo(this, shape);
  }
  squeeze(this: Tensor, axis?: number | readonly number[]): Tensor {
    return vw.squeeze(this, axis);
  }
  unsqueeze(this: Tensor, axis: number): Tensor {
    return vw.unsqueeze(this, axis);
  }
  flatten(this: Tensor, startDim?: number, endDim?: number): Tensor {
    return vw.flatten(this, startDim, endDim);
  }
  slice(this: Tensor, specs: readonly vw.SliceSpec[]): Tensor {
    return vw.slice(this, specs);
  }
  narrow(this: Tensor, axis: number, start: number, length: number): Tensor {
    return vw.narrow(this, axis, start, length);
  }
  select(this: Tensor, axis: number, index: number): Tensor {
    return vw.select(this, axis, index);
  }
  contiguous(this: Tensor): Tensor {
    return vw.contiguous(this);
  }
  clone(this: Tensor): Tensor {
    return vw.clone(this);
  }
  detach(this: Tensor): Tensor {
    return vw.detach(this);
  }
  split(this: Tensor, sizeOrSections: number | readonly number[], axis?: number): Tensor[] {
    return so.split(this, sizeOrSections, axis);
  }
  chunk(this: Tensor, chunks: number, axis?: number): Tensor[] {
    return so.chunk(this, chunks, axis);
  }
  pad(this: Tensor, pads: readonly number[], options?: { mode?: so.PadMode; value?: number }): Tensor {
    return so.pad(this, pads, options);
  }
  repeat(this: Tensor, repeats: readonly number[]): Tensor {
    return so.repeat(this, repeats);
  }
  tile(this: Tensor, reps: readonly number[]): Tensor {
    return so.tile(this, reps);
  }
  gather(this: Tensor, axis: number, index: Tensor): Tensor {
    return ix.gather(this, axis, index);
  }
  indexSelect(this: Tensor, axis: number, index: Tensor): Tensor {
    return ix.indexSelect(this, axis, index);
  }
  matmul(this: Tensor, other: Tensor): Tensor {
    return la.matmul(this, other);
  }
  dot(this: Tensor, other: Tensor): Tensor {
    return la.dot(this, other);
  }
  copy_(this: Tensor, src: TensorLike): Tensor {
    return ip.copy_(this, src);
  }
  fill_(this: Tensor, value: number | boolean): Tensor {
    return ip.fill_(this, value);
  }
  zero_(this: Tensor): Tensor {
    return ip.zero_(this);
  }
  add_(this: Tensor, other: TensorLike): Tensor {
    return ip.add_(this, other);
  }
  sub_(this: Tensor, other: TensorLike): Tensor {
    return ip.sub_(this, other);
  }
  mul_(this: Tensor, other: TensorLike): Tensor {
    return ip.mul_(this, other);
  }
  div_(this: Tensor, other: TensorLike): Tensor {
    return ip.div_(this, other);
  }
}

// Copied with their descriptors: non-enumerable like any class method.
for (const name of Object.getOwnPropertyNames(TensorMethods.prototype)) {
  if (name === 'constructor') continue;
  Object.defineProperty(
    Tensor.prototype,
    name,
    Object.getOwnPropertyDescriptor(TensorMethods.prototype, name)!,
  );
}
