// Creation ops: tensors from JS values, constant fills, ranges, identity matrices.

import { defaultBackend } from '../backend.js';
import { run } from '../dispatch.js';
import { allocArray, type DType, dtypeOfArray, isDType, isFloat, type TypedArray } from '../dtype.js';
import { ArgumentError, DTypeError, fmtShape, ShapeError } from '../errors.js';
import { checkShape, MAX_ELEMENTS, type Shape, sizeOf } from '../shape.js';
import { makeTensor, type Tensor } from '../tensor.js';
import { type BackendLike, checkTensor, resolveBackend, showArg } from './util.js';

export interface CreateOptions {
  dtype?: DType;
  /** Backend name (or object); default: the default backend. */
  backend?: BackendLike;
  requiresGrad?: boolean;
}

export interface TensorOptions extends CreateOptions {
  /** Shape for flat values (a typed array or flat list). */
  shape?: Shape;
}

/** Nested arrays of numbers or booleans, or a typed array. */
export type TensorData = number | boolean | TensorData[] | ArrayLike<number> | TypedArray;

function checkDType(op: string, dtype: DType | undefined): void {
  if (dtype !== undefined && !isDType(dtype)) {
    throw new DTypeError(`${op}: unknown dtype '${String(dtype)}'; use float32, float64, int32 or bool`);
  }
}

/** Walks nested arrays: returns the shape, the flat values, and whether all leaves are booleans. */
function flatten(values: TensorData): { shape: number[]; flat: number[]; bools: boolean } {
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe) || ArrayBuffer.isView(probe)) {
    const len = (probe as ArrayLike<unknown>).length;
    shape.push(len);
    if (len === 0 || ArrayBuffer.isView(probe)) break;
    probe = (probe as unknown[])[0];
  }
  const flat: number[] = [];
  let bools = true;
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v === 'boolean') flat.push(v ? 1 : 0);
      else if (typeof v === 'number') {
        bools = false;
        flat.push(v);
      } else {
        throw new ArgumentError(
          `tensor: expected a number or boolean at ${path || 'the top'}, got ${describe(v)}`,
        );
      }
      return;
    }
    if (!(Array.isArray(v) || ArrayBuffer.isView(v)) || (v as ArrayLike<unknown>).length !== shape[depth]) {
      throw new ShapeError(
        `tensor: ragged nested array: expected length ${shape[depth]} at ${path || 'the top'}, got ${describe(v)}`,
      );
    }
    const arr = v as ArrayLike<unknown>;
    for (let i = 0; i < arr.length; i++) walk(arr[i], depth + 1, `${path}[${i}]`);
  };
  walk(values, 0, '');
  return { shape, flat, bools };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a typed array of length ${(v as unknown as ArrayLike<unknown>).length}`;
  return v === null ? 'null' : typeof v;
}

/**
 * Creates a tensor from nested arrays, a typed array, or a number. Numbers default to float32,
 * booleans to bool; typed arrays keep their dtype (Float32Array, Float64Array, Int32Array;
 * other integer arrays become int32).
 * @example
 * const a = tensor([[1, 2], [3, 4]]);            // float32 [2,2]
 * const b = tensor(new Float64Array(6), { shape: [2, 3] });
 */
export function tensor(values: TensorData, options: TensorOptions = {}): Tensor {
  createOptions('tensor', options);
  checkDType('tensor', options.dtype);
  let data: TypedArray;
  let dtype: DType;
  let shape: number[];
  let owned = true;
  if (ArrayBuffer.isView(values)) {
    const view = values as unknown as ArrayLike<number> & ArrayBufferView;
    const own = dtypeOfArray(view);
    // A Uint8Array is usually bytes (pixels), not booleans: it becomes int32 unless bool is asked for.
    dtype = options.dtype ?? (own && own !== 'bool' ? own : 'int32');
    owned = own !== dtype;
    data = owned ? convert(view, dtype) : (view as TypedArray);
    shape = [view.length];
  } else {
    const { shape: s, flat, bools } = flatten(values);
    dtype = options.dtype ?? (bools && flat.length > 0 ? 'bool' : 'float32');
    data = convert(flat, dtype);
    shape = s;
  }
  if (options.shape) {
    const target = checkShape('tensor', options.shape);
    if (sizeOf(target) !== data.length) {
      throw new ShapeError(
        `tensor: shape ${fmtShape(target)} needs ${sizeOf(target)} values, got ${data.length}`,
      );
    }
    shape = target;
  }
  const backend = resolveBackend(options.backend) ?? defaultBackend();
  const t = makeTensor(backend, backend.upload(data, dtype, owned), dtype, shape);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

function convert(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocArray(dtype, values.length);
  if (dtype === 'bool') for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < values.length; i++) out[i] = Math.trunc(values[i]);
  else out.set(values);
  return out;
}

/** A 0-d tensor. */
export function scalar(value: number | boolean, options: CreateOptions = {}): Tensor {
  return tensor(value, options);
}

/**
 * A tensor of `shape` filled with `value`.
 * @example full([2, 3], 7, { dtype: 'int32' })
 */
export function full(shape: Shape, value: number | boolean, options: CreateOptions = {}): Tensor {
  return fill('full', shape, value, options);
}

function fill(op: string, shape: Shape, value: number | boolean, options: CreateOptions): Tensor {
  createOptions(op, options);
  if (typeof value !== 'number' && typeof value !== 'boolean')
    throw new ArgumentError(`${op}: value must be a number or a boolean, got ${showArg(value)}`);
  checkDType(op, options.dtype);
  const dims = checkShape(op, shape);
  const dtype = options.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  const t = run('full', [], { shape: dims, value: Number(value), dtype }, resolveBackend(options.backend));
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return fill('zeros', shape, 0, options);
}

export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return fill('ones', shape, 1, options);
}

/** Options objects must be objects: `null` or a number would otherwise fail inside. */
function createOptions(op: string, options: unknown): void {
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`${op}: options must be an object, got ${showArg(options)}`);
}

function likeOptions(op: string, like: Tensor, options: CreateOptions): CreateOptions {
  checkTensor(op, like);
  createOptions(op, options);
  return { dtype: like.dtype, backend: like.backend, ...options };
}

/** Same shape, dtype and backend as `like` (each overridable). */
export function fullLike(like: Tensor, value: number | boolean, options: CreateOptions = {}): Tensor {
  const o = likeOptions('fullLike', like, options);
  return fill('fullLike', like.shape, value, o);
}
export function zerosLike(like: Tensor, options: CreateOptions = {}): Tensor {
  const o = likeOptions('zerosLike', like, options);
  return fill('zerosLike', like.shape, 0, o);
}
export function onesLike(like: Tensor, options: CreateOptions = {}): Tensor {
  const o = likeOptions('onesLike', like, options);
  return fill('onesLike', like.shape, 1, o);
}

/** A typed array of `dtype` holding f(0), ..., f(n - 1) (no JS array in between: n may be large). */
function generate(dtype: DType, n: number, f: (i: number) => number): TypedArray {
  const out = allocArray(dtype, n);
  if (dtype === 'bool') for (let i = 0; i < n; i++) out[i] = f(i) ? 1 : 0;
  else if (dtype === 'int32') for (let i = 0; i < n; i++) out[i] = Math.trunc(f(i));
  else for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

function upload(values: TypedArray, dtype: DType, shape: number[], options: CreateOptions): Tensor {
  const backend = resolveBackend(options.backend) ?? defaultBackend();
  const t = makeTensor(backend, backend.upload(values, dtype, true), dtype, shape);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * Evenly spaced values in [start, end) with `step` (one argument: [0, end)). Integer arguments
 * give int32 unless a dtype is given.
 * @example arange(5) // [0,1,2,3,4]; arange(1, 2, 0.25) // [1,1.25,1.5,1.75]
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  for (const [n, v] of [
    ['start', start],
    ['end', end],
    ['step', step],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ArgumentError(`arange: ${n} must be a finite number, got ${showArg(v)}`);
  }
  if (step === 0) throw new ArgumentError('arange: step must not be 0');
  if ((end - start) / step < 0) {
    throw new ArgumentError(`arange: step ${step} goes away from end (start ${start}, end ${end})`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (n > MAX_ELEMENTS)
    throw new ArgumentError(
      `arange: ${n} elements from ${start} to ${end} by ${step}, more than a tensor can hold`,
    );
  const ints = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = options.dtype ?? (ints ? 'int32' : 'float32');
  checkDType('arange', dtype);
  return upload(
    generate(dtype, n, (i) => start + i * step),
    dtype,
    [n],
    options,
  );
}

/** `steps` evenly spaced values from start to end, both included. */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  createOptions('linspace', options);
  for (const [name, v] of [
    ['start', start],
    ['end', end],
  ] as const)
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ArgumentError(`linspace: ${name} must be a finite number, got ${showArg(v)}`);
  if (!Number.isInteger(steps) || steps < 0 || steps > MAX_ELEMENTS)
    throw new ArgumentError(
      `linspace: steps must be an integer in [0, ${MAX_ELEMENTS}], got ${showArg(steps)}`,
    );
  const dtype = options.dtype ?? 'float32';
  if (!isFloat(dtype)) throw new DTypeError(`linspace: dtype must be float32 or float64, got ${dtype}`);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill symmetric halves from each end, as PyTorch does, so the last value is exactly `end`.
  const values = generate(dtype, steps, (i) =>
    i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step,
  );
  return upload(values, dtype, [steps], options);
}

/** Identity matrix `[n, m]` (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  for (const [name, v] of [
    ['n', n],
    ['m', m],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new ArgumentError(`eye: ${name} must be an integer >= 0, got ${showArg(v)}`);
  }
  checkShape('eye', [n, m]);
  createOptions('eye', options);
  const dtype = options.dtype ?? 'float32';
  checkDType('eye', dtype);
  const values = allocArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return upload(values, dtype, [n, m], options);
}
