// View ops: new shapes and strides over the same memory (no copy), plus contiguous() and detach().
import { run } from '../dispatch.js';
import { ArgumentError, fmtShape, ShapeError } from '../errors.js';
import { checkShape, normalizeAxis, type Shape, sizeOf } from '../shape.js';
import { makeView, type Tensor } from '../tensor.js';
import { checkTensor, intList, showArg } from './util.js';

/**
 * Strides that let `shape` view memory laid out as `oldShape`/`oldStrides` without copying, or
 * undefined when only a copy can do it (PyTorch's computeStride, chunk by chunk).
 */
export function viewStrides(
  oldShape: Shape,
  oldStrides: readonly number[],
  shape: Shape,
): number[] | undefined {
  const n = sizeOf(shape);
  if (n === 0 || oldShape.length === 0) return shapeStrides(shape);
  const strides = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1];
  let tensorElems = 1;
  let viewElems = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorElems *= oldShape[d];
    // A chunk ends where the old dims stop being contiguous with each other.
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorElems * chunkBase)) {
      while (viewD >= 0 && (viewElems < tensorElems || shape[viewD] === 1)) {
        strides[viewD] = viewElems * chunkBase;
        viewElems *= shape[viewD];
        viewD--;
      }
      if (viewElems !== tensorElems) return undefined;
      if (d > 0) {
        chunkBase = oldStrides[d - 1];
        tensorElems = 1;
        viewElems = 1;
      }
    }
  }
  return viewD === -1 ? strides : undefined;
}

function shapeStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= Math.max(shape[i], 1);
  }
  return strides;
}

/** Resolves one -1 entry and checks that the sizes match. */
function inferShape(op: string, x: Tensor, shape: Shape): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (out.lastIndexOf(-1) !== unknown)
    throw new ArgumentError(`${op}: only one dimension can be -1, got ${fmtShape(shape)}`);
  if (unknown >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(
        `${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`,
      );
    }
    out[unknown] = x.size / known;
  }
  checkShape(op, out);
  if (sizeOf(out) !== x.size) {
    throw new ShapeError(
      `${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`,
    );
  }
  return out;
}

/**
 * Same data, new shape (one entry may be -1). A view when the layout allows, else a copy.
 * @example reshape(arange(6), [2, -1]) // [2,3]
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkTensor('reshape', x);
  return run('reshape', [x], { shape: inferShape('reshape', x, intList('reshape', 'shape', shape)) });
}

/** Like `reshape`, but throws instead of copying when the layout does not allow a view. */
export function view(x: Tensor, shape: Shape): Tensor {
  checkTensor('view', x);
  const target = inferShape('view', x, intList('view', 'shape', shape));
  if (!viewStrides(x.shape, x.strides, target)) {
    throw new ShapeError(
      `view: a tensor of shape ${fmtShape(x.shape)} with strides ${fmtShape(x.strides)} cannot be viewed as ` +
        `${fmtShape(target)}; call reshape() (copies) or contiguous() first`,
    );
  }
  return run('reshape', [x], { shape: target });
}

/** Reorders dimensions: output dim i is input dim axes[i]. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  checkTensor('permute', x);
  intList('permute', 'axes', axes);
  if (axes.length !== x.rank) {
    throw new ArgumentError(
      `permute: expected ${x.rank} axes for shape ${fmtShape(x.shape)}, got [${axes.join(',')}]`,
    );
  }
  const norm = axes.map((a) => normalizeAxis('permute', a, x.rank));
  if (new Set(norm).size !== norm.length)
    throw new ArgumentError(`permute: axes [${axes.join(',')}] repeat a dimension`);
  return run('permute', [x], { axes: norm });
}

/** Swaps two dimensions (default: the last two). */
export function transpose(x: Tensor, dim0?: number, dim1?: number): Tensor {
  checkTensor('transpose', x);
  if (x.rank < 2 && (dim0 === undefined || dim1 === undefined)) {
    throw new ArgumentError(
      `transpose: needs a tensor of rank >= 2 or explicit dims, got ${fmtShape(x.shape)}`,
    );
  }
  const axes = Array.from({ length: x.rank }, (_, i) => i);
  const a = normalizeAxis('transpose', dim0 ?? -2, x.rank);
  const b = normalizeAxis('transpose', dim1 ?? -1, x.rank);
  [axes[a], axes[b]] = [axes[b], axes[a]];
  return run('permute', [x], { axes });
}

/**
 * Broadcasts size-1 dims to `shape` without copying (-1 keeps a dim). New leading dims allowed.
 * @example expand(tensor([[1], [2]]), [2, 3])
 */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkTensor('expand', x);
  intList('expand', 'shape', shape);
  if (shape.length < x.rank) {
    throw new ShapeError(
      `expand: target ${fmtShape(shape)} has fewer dims than the input ${fmtShape(x.shape)}`,
    );
  }
  const lead = shape.length - x.rank;
  const out = shape.map((d, i) => {
    const src = i >= lead ? x.shape[i - lead] : 1;
    const want = d === -1 && i >= lead ? src : d;
    if (want !== src && src !== 1) {
      throw new ShapeError(
        `expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dim ${i}: ${src} -> ${d})`,
      );
    }
    return want;
  });
  checkShape('expand', out);
  return run('expand', [x], { shape: out });
}

/** NumPy's name for `expand` (no -1 entries). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  return expand(x, shape);
}

/** Removes size-1 dims (all of them, or the given ones; a given dim that is not 1 is kept, as in PyTorch). */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkTensor('squeeze', x);
  const axes =
    axis === undefined
      ? x.shape.map((_, i) => i)
      : (typeof axis === 'number' ? [axis] : intList('squeeze', 'axis', axis)).map((a) =>
          normalizeAxis('squeeze', a, x.rank),
        );
  const shape = x.shape.filter((d, i) => !(d === 1 && axes.includes(i)));
  return run('reshape', [x], { shape });
}

/** Inserts a size-1 dim at `axis` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor('unsqueeze', x);
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return run('reshape', [x], { shape });
}

/** Merges dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor('flatten', x);
  if (x.rank === 0) return run('reshape', [x], { shape: [1] });
  const s = normalizeAxis('flatten', startDim, x.rank, 'startDim');
  const e = normalizeAxis('flatten', endDim, x.rank, 'endDim');
  if (s > e) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return run('reshape', [x], { shape });
}

/** One axis of a `slice` spec: an index (drops the axis), null (all), or [start, end, step]. */
export type SliceSpec = number | null | readonly [start?: number | null, end?: number | null, step?: number];

/**
 * Python-style slicing of the leading axes; a view. Negative indices count from the end and
 * out-of-range bounds clamp, as in Python; steps must be positive.
 * @example slice(x, [null, [1, -1], 0]) // x[:, 1:-1, 0]
 */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  checkTensor('slice', x);
  if (!Array.isArray(specs))
    throw new ArgumentError(
      `slice: specs must be an array of [start, end, step?] entries, got ${showArg(specs)}`,
    );
  if (specs.length > x.rank) {
    throw new ArgumentError(
      `slice: ${specs.length} specs for a tensor of rank ${x.rank} ${fmtShape(x.shape)}`,
    );
  }
  const starts = new Array<number>(x.rank).fill(0);
  const steps = new Array<number>(x.rank).fill(1);
  const shape = [...x.shape];
  const drop: number[] = [];
  specs.forEach((spec, axis) => {
    const n = x.shape[axis];
    if (spec === null || spec === undefined) return;
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < -n || spec >= n) {
        throw new ArgumentError(`slice: index ${spec} is out of range for axis ${axis} of size ${n}`);
      }
      starts[axis] = spec < 0 ? spec + n : spec;
      shape[axis] = 1;
      drop.push(axis);
      return;
    }
    const [start, end, step = 1] = spec;
    if (!Number.isInteger(step) || step <= 0)
      throw new ArgumentError(`slice: step must be a positive integer, got ${step}`);
    const clampIdx = (v: number | null | undefined, dflt: number): number => {
      if (v === null || v === undefined) return dflt;
      if (!Number.isInteger(v)) throw new ArgumentError(`slice: bounds must be integers, got ${v}`);
      return Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    };
    const s = clampIdx(start, 0);
    const e = clampIdx(end, n);
    starts[axis] = s;
    steps[axis] = step;
    shape[axis] = Math.max(0, Math.ceil((e - s) / step));
  });
  const sliced = run('slice', [x], { starts, steps, shape });
  if (drop.length === 0) return sliced;
  return run('reshape', [sliced], { shape: shape.filter((_, i) => !drop.includes(i)) });
}

/** `length` entries of `axis` from `start`; a view. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  checkTensor('narrow', x);
  const a = normalizeAxis('narrow', axis, x.rank);
  const n = x.shape[a];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new ArgumentError(
      `narrow: start ${start} and length ${length} do not fit axis ${axis} of size ${n}`,
    );
  }
  const specs: SliceSpec[] = x.shape.map(() => null);
  specs[a] = [s, s + length];
  return slice(x, specs);
}

/** The entry `index` of `axis`, with that axis removed; a view. */
export function select(x: Tensor, axis: number, index: number): Tensor {
  checkTensor('select', x);
  if (!Number.isInteger(index))
    throw new ArgumentError(`select: index must be an integer, got ${showArg(index)}`);
  const a = normalizeAxis('select', axis, x.rank);
  const specs: SliceSpec[] = x.shape.map(() => null);
  specs[a] = index;
  return slice(x, specs);
}

/** A contiguous tensor with the same values: `x` itself when already contiguous, else a copy. */
export function contiguous(x: Tensor): Tensor {
  checkTensor('contiguous', x);
  return x.isContiguous ? x : run('contiguous', [x]);
}

/** A copy that owns its memory (always copies, unlike `contiguous`). */
export function clone(x: Tensor): Tensor {
  checkTensor('clone', x);
  return run('contiguous', [x]);
}

/** A new handle to the same data that autograd does not track (PyTorch's `detach`). */
export function detach(x: Tensor): Tensor {
  checkTensor('detach', x);
  return makeView(x, x.shape, x.strides, x.offset);
}

/**
 * The adjoint of `slice` (with the same starts/steps): a tensor of `inputShape`, zero except
 * where the slice came from, which holds `grad`. Autograd uses it; it is differentiable itself.
 */
export function sliceBackward(
  grad: Tensor,
  inputShape: readonly number[],
  starts: readonly number[],
  steps: readonly number[],
): Tensor {
  checkTensor('sliceBackward', grad, 'grad');
  checkShape('sliceBackward', inputShape);
  if (
    starts.length !== inputShape.length ||
    steps.length !== inputShape.length ||
    grad.rank !== inputShape.length
  ) {
    throw new ShapeError(
      `sliceBackward: grad ${fmtShape(grad.shape)}, starts and steps need rank ${inputShape.length}`,
    );
  }
  grad.shape.forEach((n, i) => {
    if (n > 0 && starts[i] + (n - 1) * steps[i] >= inputShape[i]) {
      throw new ShapeError(
        `sliceBackward: a slice of ${n} from ${starts[i]} by ${steps[i]} does not fit axis ${i} of ${fmtShape(inputShape)}`,
      );
    }
  });
  return run('sliceBackward', [grad], {
    inputShape: [...inputShape],
    starts: [...starts],
    steps: [...steps],
  });
}
