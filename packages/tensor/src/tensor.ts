// The Tensor handle: shape, strides and offset over a refcounted Storage. Ops live in free
// functions (src/ops); the methods that delegate to them are attached in methods.ts.
import { type Backend, Storage, stats } from './backend.js';
import { type DType, isFloat } from './dtype.js';
import { DTypeError, StateError } from './errors.js';
import type { TensorMethods } from './methods.js';
import { forgetInScope, setTensorCheck, trackInScope } from './scope.js';
import { contiguousStrides, isContiguous, type Shape, sizeOf } from './shape.js';

/**
 * What the core knows of an autograd node: a name for printing and a way to release what it
 * saved. @softpool/autograd provides the implementation; the core never imports it.
 */
export interface GradFn {
  readonly name: string;
  release(): void;
}

/** Nested arrays of numbers, as `array()` returns them. */
export type NestedArray = number | NestedArray[];

interface Held {
  storage: Storage;
  backend: string;
}

// Safety net for tensors nobody disposed: when one is garbage-collected its storage ref is dropped.
const finalizer = new FinalizationRegistry<Held>((held) => {
  stats(held.backend).tensors--;
  held.storage.release();
});

let tensorIds = 0;

/**
 * The methods methods.ts attaches (`x.relu()`, `x.sum()`, `await x.data()`, ...), declared once by
 * the class there that implements them.
 */
export interface Tensor extends TensorMethods {}

/** An n-dimensional array on one backend. Create tensors with `tensor`, `zeros`, `randn`, ... */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface adds only methods and a getter, which methods.ts installs on the prototype.
export class Tensor {
  /** Unique per handle (views get their own id). */
  readonly id = ++tensorIds;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly storage: Storage;
  /** Set by autograd: the node that produced this tensor, or null for leaves. */
  gradFn: GradFn | null = null;
  /** Accumulated gradient (autograd). */
  grad: Tensor | null = null;
  #requiresGrad = false;
  #disposed = false;

  /**
   * Internal: wraps storage in a new handle. Backends use `makeTensor`; users use creation
   * functions. `track` = false keeps the handle out of scopes (autograd's saved tensors).
   */
  constructor(storage: Storage, shape: Shape, strides?: readonly number[], offset = 0, track = true) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    storage.retain();
    stats(storage.backend.name).tensors++;
    finalizer.register(this, { storage, backend: storage.backend.name }, this);
    if (track) trackInScope(this);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** Alias of `rank` (PyTorch's name). */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }
  /** Name of the backend that holds the data. */
  get device(): string {
    return this.storage.backend.name;
  }
  get backend(): Backend {
    return this.storage.backend;
  }
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  get isDisposed(): boolean {
    return this.#disposed;
  }
  /** True for tensors autograd tracks. Only float tensors can require gradients. */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }
  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype)) {
      throw new DTypeError(`requiresGrad: only float tensors can require gradients, got dtype ${this.dtype}`);
    }
    this.#requiresGrad = value;
  }
  /** Tensors created by the user (not by an op that records a gradient). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Sets `requiresGrad` in place and returns this tensor (PyTorch's `requires_grad_`). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** Throws a clear error if this tensor was disposed. */
  assertAlive(op: string): void {
    if (this.#disposed) throw new StateError(`${op}: tensor ${this.id} ${shapeStr(this)} was disposed`);
  }

  /** Releases this handle now; the memory goes when the last view of it is disposed. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    finalizer.unregister(this);
    forgetInScope(this);
    stats(this.storage.backend.name).tensors--;
    const fn = this.gradFn;
    this.gradFn = null;
    fn?.release();
    this.storage.release();
  }

  /** `using t = ...` disposes at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Makes this handle point at `src`'s memory (same shape), releasing its own: how modules move or
   * replace parameter data while keeping the Parameter object that optimizers hold.
   */
  replaceData_(src: Tensor): this {
    this.assertAlive('replaceData_');
    src.assertAlive('replaceData_');
    if (src.shape.length !== this.shape.length || src.shape.some((d, i) => d !== this.shape[i])) {
      throw new StateError(
        `replaceData_: source shape [${src.shape.join(',')}] differs from [${this.shape.join(',')}]`,
      );
    }
    const old = this.storage;
    src.storage.retain();
    const self = this as unknown as { storage: Storage; strides: readonly number[]; offset: number };
    if (old.backend !== src.storage.backend) {
      stats(old.backend.name).tensors--;
      stats(src.storage.backend.name).tensors++;
    }
    self.storage = src.storage;
    self.strides = src.strides;
    self.offset = src.offset;
    // The safety net must now release the new storage.
    finalizer.unregister(this);
    finalizer.register(this, { storage: src.storage, backend: src.storage.backend.name }, this);
    old.release();
    return this;
  }

  /** Bumps the storage version (autograd's check against modified saved tensors). Internal. */
  markModified(): void {
    this.storage.version++;
  }

  /** The storage version when this was read; autograd compares it at backward time. */
  get version(): number {
    return this.storage.version;
  }
}

function shapeStr(t: Tensor): string {
  return `[${t.shape.join(',')}] ${t.dtype}`;
}

setTensorCheck((x: unknown): x is Tensor => x instanceof Tensor);

/** Wraps a backend handle as a new contiguous tensor (for backends and kernels). */
export function makeTensor(backend: Backend, handle: unknown, dtype: DType, shape: Shape): Tensor {
  return new Tensor(new Storage(backend, handle, dtype, sizeOf(shape)), shape);
}

/** A new handle over the same memory with other shape/strides/offset (views). */
export function makeView(base: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
  return new Tensor(base.storage, shape, strides, offset);
}

/**
 * A second handle to exactly the same data that no scope adopts: it lives until disposed. Autograd
 * saves tensors for backward this way, so user scopes and disposals cannot free them early.
 */
export function shareHandle(t: Tensor): Tensor {
  t.assertAlive('shareHandle');
  return new Tensor(t.storage, t.shape, t.strides, t.offset, false);
}
