// Shape arithmetic shared by every backend: sizes, strides, broadcasting, axis normalisation.
import { ArgumentError, fmtShape, ShapeError } from './errors.js';

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a 0-d tensor). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** True when a view with these strides walks memory in row-major order without gaps. */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of any number of shapes; throws naming the op and the shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i];
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together`,
        );
    }
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if it had the (broadcast) shape `target`. */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 ? 0 : strides[i];
  return out;
}

/** Normalises a possibly negative axis into [0, rank); throws naming the op. */
export function normalizeAxis(op: string, axis: number, rank: number, name = 'axis'): number {
  if (!Number.isInteger(axis))
    throw new ArgumentError(`${op}: ${name} must be an integer, got ${JSON.stringify(axis)}`);
  // A 0-d tensor accepts axis 0 and -1, as in PyTorch.
  const r = Math.max(rank, 1);
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) {
    throw new ArgumentError(`${op}: ${name} ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Normalises an axis list (undefined = all axes), sorted, without duplicates. */
export function normalizeAxes(
  op: string,
  axes: number | readonly number[] | undefined,
  rank: number,
): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== out.length)
    throw new ArgumentError(`${op}: repeated axis in [${list.join(',')}]`);
  if (rank === 0) return [];
  return out.sort((x, y) => x - y);
}

/**
 * Most elements a tensor may have: what a typed array can hold (2^32 - 1 in Node 20's V8). Checked
 * before anything is allocated, so a huge shape is an error, not a crash.
 */
export const MAX_ELEMENTS = 2 ** 32 - 1;

/** Validates a user-provided shape: non-negative integers, at most MAX_ELEMENTS elements in all. */
export function checkShape(op: string, shape: Shape): number[] {
  if (!Array.isArray(shape))
    throw new ArgumentError(
      `${op}: shape must be an array of integers, got ${JSON.stringify(shape) ?? String(shape)}`,
    );
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ArgumentError(`${op}: shape entries must be non-negative integers, got ${fmtShape(shape)}`);
    }
    n *= d;
  }
  // Each dim too: an empty tensor with a huge dim would still size a kernel's row buffers.
  if (n > MAX_ELEMENTS || shape.some((d) => d > MAX_ELEMENTS))
    throw new ArgumentError(
      `${op}: shape ${fmtShape(shape)} has ${n} elements, more than a tensor can hold (${MAX_ELEMENTS})`,
    );
  return [...shape];
}

/**
 * Merges adjacent dimensions that every operand walks contiguously, so loops run over as few
 * dimensions as possible. `strides[k]` is operand k's stride list for `shape`.
 */
export function collapseDims(
  shape: Shape,
  strides: readonly (readonly number[])[],
): {
  shape: number[];
  strides: number[][];
} {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[i] * d)) {
      outShape[last] *= d;
      strides.forEach((s, k) => {
        outStrides[k][last] = s[i];
      });
    } else {
      outShape.push(d);
      strides.forEach((s, k) => {
        outStrides[k].push(s[i]);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Output shape of a reduction over (normalised, sorted) `axes`. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDim: boolean): number[] {
  if (keepDim) return shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return shape.filter((_, i) => !axes.includes(i));
}
