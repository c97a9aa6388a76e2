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

declare module './tensor.js' {
  interface Tensor {
    /** Elements in row-major order (a copy), whatever the layout. */
    data(): Promise<TypedArray>;
    /** Synchronous `data()`, for backends that can read synchronously (the CPU). */
    dataSync(): TypedArray;
    /** Nested arrays of numbers (bool as 0/1). */
    array(): Promise<NestedArray>;
    arraySync(): NestedArray;
    /** The value of a one-element tensor. */
    item(): Promise<number>;
    itemSync(): number;
    /** This tensor on another backend (itself when already there). Differentiable. */
    to(backend: string): Tensor;
    /** `to` for backends that only read asynchronously (WebGPU -> CPU). */
    toAsync(backend: string): Promise<Tensor>;
    toString(): string;

    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(other: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    logicalAnd(other: TensorLike): Tensor;
    logicalOr(other: TensorLike): Tensor;
    logicalNot(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    erf(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    leakyRelu(options?: { negativeSlope?: number }): Tensor;
    gelu(options?: { approximate?: 'none' | 'tanh' }): Tensor;
    clamp(min?: TensorLike | null, max?: TensorLike | null): Tensor;
    cast(dtype: DType): Tensor;

    sum(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    prod(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    mean(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    max(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    min(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    all(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    any(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    argmax(axis?: number, options?: { keepDim?: boolean }): Tensor;
    argmin(axis?: number, options?: { keepDim?: boolean }): Tensor;
    var(axis?: number | readonly number[] | rd.VarianceOptions, options?: rd.VarianceOptions): Tensor;
    std(axis?: number | readonly number[] | rd.VarianceOptions, options?: rd.VarianceOptions): Tensor;
    logSumExp(axis?: rd.AxisArg, options?: rd.ReduceOptions): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;

    reshape(shape: Shape): Tensor;
    view(shape: Shape): Tensor;
    permute(axes: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    /** Transpose of the last two dims. */
    readonly T: Tensor;
    expand(shape: Shape): Tensor;
    broadcastTo(shape: Shape): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    unsqueeze(axis: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    slice(specs: readonly vw.SliceSpec[]): Tensor;
    narrow(axis: number, start: number, length: number): Tensor;
    select(axis: number, index: number): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    split(sizeOrSections: number | readonly number[], axis?: number): Tensor[];
    chunk(chunks: number, axis?: number): Tensor[];
    pad(pads: readonly number[], options?: { mode?: so.PadMode; value?: number }): Tensor;
    repeat(repeats: readonly number[]): Tensor;
    tile(reps: readonly number[]): Tensor;
    gather(axis: number, index: Tensor): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    matmul(other: Tensor): Tensor;
    dot(other: Tensor): Tensor;

    /**
     * Backpropagates from this tensor (scalars need no `gradient`): fills `.grad` of the leaves
     * that require grad. Needs @softpool/autograd loaded.
     */
    backward(gradient?: Tensor | BackwardOptions, options?: BackwardOptions): void;
    /** Asks backward to fill `.grad` of this non-leaf tensor too. */
    retainGrad(): this;

    copy_(src: TensorLike): this;
    fill_(value: number | boolean): this;
    zero_(): this;
    add_(other: TensorLike): this;
    sub_(other: TensorLike): this;
    mul_(other: TensorLike): this;
    div_(other: TensorLike): this;
  }
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;

/** Installs `name` as a method calling `fn(this, ...args)`. */
function delegate(name: string, fn: (self: Tensor, ...args: never[]) => unknown): void {
  proto[name] = function (this: Tensor, ...args: never[]) {
    return fn(this, ...args);
  };
}

const free: Record<string, (self: Tensor, ...args: never[]) => unknown> = {
  ...pick(ew, [
    'add',
    'sub',
    'mul',
    'div',
    'pow',
    'maximum',
    'minimum',
    'eq',
    'ne',
    'lt',
    'le',
    'gt',
    'ge',
    'logicalAnd',
    'logicalOr',
    'logicalNot',
    'neg',
    'abs',
    'sign',
    'exp',
    'log',
    'log1p',
    'expm1',
    'sqrt',
    'rsqrt',
    'sin',
    'cos',
    'tanh',
    'sigmoid',
    'relu',
    'erf',
    'square',
    'reciprocal',
    'floor',
    'ceil',
    'round',
    'leakyRelu',
    'gelu',
    'clamp',
    'cast',
  ]),
  ...pick(rd, [
    'sum',
    'prod',
    'mean',
    'max',
    'min',
    'all',
    'any',
    'argmax',
    'argmin',
    'std',
    'logSumExp',
    'softmax',
    'logSoftmax',
  ]),
  var: rd.variance as never,
  ...pick(vw, [
    'reshape',
    'view',
    'permute',
    'transpose',
    'expand',
    'broadcastTo',
    'squeeze',
    'unsqueeze',
    'flatten',
    'slice',
    'narrow',
    'select',
    'contiguous',
    'clone',
    'detach',
  ]),
  ...pick(so, ['split', 'chunk', 'pad', 'repeat', 'tile']),
  ...pick(ix, ['gather', 'indexSelect']),
  ...pick(la, ['matmul', 'dot']),
  ...pick(ip, ['copy_', 'fill_', 'zero_', 'add_', 'sub_', 'mul_', 'div_']),
};

function pick(
  mod: Record<string, unknown>,
  names: string[],
): Record<string, (self: Tensor, ...args: never[]) => unknown> {
  return Object.fromEntries(names.map((n) => [n, mod[n] as (self: Tensor, ...args: never[]) => unknown]));
}

for (const [name, fn] of Object.entries(free)) delegate(name, fn);

Object.defineProperty(Tensor.prototype, 'T', {
  get(this: Tensor) {
    return vw.transpose(this);
  },
});

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

proto.dataSync = function (this: Tensor) {
  return readSyncOrThrow(this, 'dataSync');
};

proto.data = async function (this: Tensor) {
  this.assertAlive('data');
  const c = vw.contiguous(this);
  try {
    return await c.backend.read(c.storage.handle, c.dtype, c.offset, c.size);
  } finally {
    if (c !== this) c.dispose();
    await maybeYield();
  }
};

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

proto.arraySync = function (this: Tensor) {
  return nest(readSyncOrThrow(this, 'arraySync'), this.shape);
};

proto.array = async function (this: Tensor) {
  return nest(await this.data(), this.shape);
};

function checkItem(t: Tensor, op: string): void {
  t.assertAlive(op);
  if (t.size !== 1)
    throw new ShapeError(`${op}: only one-element tensors have an item, got shape [${t.shape.join(',')}]`);
}

proto.itemSync = function (this: Tensor) {
  checkItem(this, 'itemSync');
  return readSyncOrThrow(this, 'itemSync')[0];
};

proto.item = async function (this: Tensor) {
  checkItem(this, 'item');
  return (await this.data())[0];
};

proto.to = function (this: Tensor, backend: string) {
  this.assertAlive('to');
  if (this.device === backend) return this;
  return run('to', [this], { backend });
};

proto.toAsync = async function (this: Tensor, backend: string) {
  this.assertAlive('toAsync');
  if (this.device === backend) return this;
  if (this.backend.readSync) return run('to', [this], { backend });
  const target = getBackend(backend);
  const values = await this.data();
  return makeTensor(target, target.upload(values, this.dtype, true), this.dtype, this.shape);
};

proto.toString = function (this: Tensor) {
  if (this.isDisposed) return `tensor(<disposed>, shape=[${this.shape.join(', ')}], dtype=${this.dtype})`;
  return formatTensor(this, this.backend.readSync ? this.dataSync() : undefined);
};

// ---- autograd entry points (implemented by @softpool/autograd through the recorder) ------------

proto.backward = function (this: Tensor, gradient?: Tensor | BackwardOptions, options: BackwardOptions = {}) {
  const isTensor = gradient instanceof Tensor;
  gradRecorder('backward').backward(
    this,
    isTensor ? gradient : undefined,
    isTensor ? options : { ...gradient, ...options },
  );
};

proto.retainGrad = function (this: Tensor) {
  gradRecorder('retainGrad').retainGrad(this);
  return this;
};
