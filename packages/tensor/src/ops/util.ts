// Helpers shared by the op front-ends: scalars to tensors, dtype checks, option parsing.
import { type Backend, getBackend } from '../backend.js';
import { run } from '../dispatch.js';
import { type DType, isFloat, promoteTypes, scalarResultType } from '../dtype.js';
import { ArgumentError, DTypeError } from '../errors.js';
import { Tensor } from '../tensor.js';

/** A tensor, or a JS number (or boolean) that broadcasts like a 0-d tensor. */
export type TensorLike = Tensor | number | boolean;

/** Where a creation op puts its tensor: a backend name or object; default: the default backend. */
export type BackendLike = string | Backend;

export function resolveBackend(b: BackendLike | undefined): Backend | undefined {
  if (b === undefined) return undefined;
  if (typeof b === 'string') return getBackend(b);
  if (typeof b !== 'object' || b === null || typeof (b as Backend).upload !== 'function')
    throw new ArgumentError(`backend must be a backend name or a Backend, got ${showArg(b)}`);
  return b;
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

/** Throws unless `x` is a live Tensor: catches `undefined` and plain arrays with a clear message. */
export function checkTensor(op: string, x: unknown, name = 'input'): Tensor {
  if (!(x instanceof Tensor)) {
    const got = x === null ? 'null' : Array.isArray(x) ? 'an array (wrap it with tensor())' : typeof x;
    throw new ArgumentError(`${op}: ${name} must be a Tensor, got ${got}`);
  }
  x.assertAlive(op);
  return x;
}

/** A 0-d tensor holding `value` on `backend` (used for scalar operands). */
export function scalarTensor(value: number, dtype: DType, backend: Backend): Tensor {
  return run('full', [], { shape: [], value, dtype }, backend);
}

/** The dtype a tensor/scalar mix promotes to (scalars are weak, see scalarResultType). */
export function resultDType(op: string, args: readonly TensorLike[]): DType {
  let tensorType: DType | undefined;
  for (const a of args) {
    if (a instanceof Tensor) tensorType = tensorType ? promoteTypes(tensorType, a.dtype) : a.dtype;
    else if (typeof a !== 'number' && typeof a !== 'boolean') {
      throw new ArgumentError(
        `${op}: operands must be tensors or numbers, got ${a === null ? 'null' : typeof a}`,
      );
    }
  }
  if (!tensorType) throw new ArgumentError(`${op}: at least one operand must be a Tensor`);
  let dtype = tensorType;
  for (const a of args) {
    if (typeof a === 'number') dtype = promoteTypes(dtype, scalarResultType(tensorType, a));
  }
  return dtype;
}

/** Converts every operand to a tensor of `dtype` on the first tensor's backend (casting as needed). */
export function operands(op: string, args: readonly TensorLike[], dtype: DType): Tensor[] {
  const first = args.find((a): a is Tensor => a instanceof Tensor)!;
  return args.map((a) => {
    if (a instanceof Tensor) {
      a.assertAlive(op);
      return a.dtype === dtype ? a : run('cast', [a], { dtype });
    }
    const v = Number(a);
    if (dtype === 'int32' && (v < -(2 ** 31) || v > 2 ** 31 - 1))
      throw new ArgumentError(
        `${op}: ${v} does not fit in int32, the dtype of the result; cast the tensor to float64 first (as PyTorch, no silent wrap-around)`,
      );
    return scalarTensor(v, dtype, first.backend);
  });
}

/** Throws unless `t` has a float dtype. */
export function requireFloat(op: string, t: Tensor, name = 'input'): void {
  if (!isFloat(t.dtype)) throw new DTypeError(`${op}: ${name} must be float32 or float64, got ${t.dtype}`);
}

/** Reads an integer option, with a clear error naming the op and option. */
export function intOption(op: string, name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(`${op}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Expands a number-or-tuple option to `n` entries (kernel sizes, strides, paddings). */
export function tupleOption(
  op: string,
  name: string,
  value: number | readonly number[],
  n: number,
  min = 0,
): number[] {
  const list = typeof value === 'number' ? new Array<number>(n).fill(value) : [...value];
  if (list.length !== n) {
    throw new ArgumentError(`${op}: ${name} must be a number or ${n} numbers, got [${list.join(',')}]`);
  }
  list.forEach((v) => {
    intOption(op, name, v, min);
  });
  return list;
}

/** A JSON-ish rendering of a user argument for messages. */
export function showArg(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'symbol' || v === undefined)
    return String(v);
  if (isTensor(v)) return `a tensor ${'['}${v.shape.join(',')}]`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** An array of integers (shapes, axes, pads, repeats), with an error naming the op and argument. */
export function intList(op: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d)))
    throw new ArgumentError(`${op}: ${name} must be an array of integers, got ${showArg(v)}`);
  return v as number[];
}
