// In-place updates: write into an existing tensor's memory (optimizer steps, buffer updates).
// They bump the storage version, so autograd can refuse a saved tensor that changed.
import { isGradRecording, run } from '../dispatch.js';
import { ArgumentError, fmtShape, ShapeError, StateError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, div, mul, sub } from './elementwise.js';
import { checkTensor, scalarTensor, showArg, type TensorLike } from './util.js';
import { clone } from './view.js';

function checkTarget(op: string, dst: Tensor, src?: TensorLike): void {
  checkTensor(op, dst);
  if (isGradRecording() && (dst.requiresGrad || (src instanceof Tensor && src.requiresGrad))) {
    throw new StateError(
      `${op}: in-place update of a tensor that requires grad while gradients are recorded; ` +
        'wrap it in noGrad(() => ...) (as optimizers do) or use the out-of-place op',
    );
  }
  if (dst.strides.some((s, i) => s === 0 && dst.shape[i] > 1)) {
    throw new ArgumentError(
      `${op}: cannot write into a broadcast (expanded) view of shape ${fmtShape(dst.shape)}`,
    );
  }
}

/** Writes `src` (broadcast, cast) into `dst`'s memory, naming `op` in errors. */
function write(op: string, dst: Tensor, src: TensorLike): Tensor {
  checkTarget(op, dst, src);
  let value: Tensor;
  if (src instanceof Tensor) {
    checkTensor(op, src, 'src');
    const shape = broadcastShapes(op, src.shape, dst.shape);
    if (shape.length !== dst.rank || shape.some((d, i) => d !== dst.shape[i])) {
      throw new ShapeError(
        `${op}: source ${fmtShape(src.shape)} does not broadcast to destination ${fmtShape(dst.shape)}`,
      );
    }
    value = src.dtype === dst.dtype ? src : run('cast', [src], { dtype: dst.dtype });
    // Overlapping memory (x.copy_(x.T)) must be read fully before it is written.
    if (value.storage === dst.storage) value = clone(value);
  } else {
    value = scalarTensor(Number(src), dst.dtype, dst.backend);
  }
  run('assign', [dst, value]);
  dst.markModified();
  if (value !== src) value.dispose();
  return dst;
}

/**
 * Copies `src` (broadcast to dst's shape, cast to dst's dtype) into `dst`; returns `dst`.
 * @example copy_(param, newValues)
 */
export function copy_(dst: Tensor, src: TensorLike): Tensor {
  if (typeof src !== 'number' && typeof src !== 'boolean' && !(src instanceof Tensor))
    throw new ArgumentError(`copy_: src must be a tensor or a number, got ${showArg(src)}`);
  return write('copy_', dst, src);
}

/** Fills `dst` with a number; returns `dst`. */
export function fill_(dst: Tensor, value: number | boolean): Tensor {
  if (typeof value !== 'number' && typeof value !== 'boolean')
    throw new ArgumentError(`fill_: value must be a number or a boolean, got ${showArg(value)}`);
  return write('fill_', dst, Number(value));
}

/** Sets every element of `dst` to 0; returns `dst`. */
export function zero_(dst: Tensor): Tensor {
  return write('zero_', dst, 0);
}

function update(op: string, dst: Tensor, other: TensorLike, f: (a: Tensor, b: TensorLike) => Tensor): Tensor {
  checkTarget(op, dst, other);
  const result = f(dst, other);
  write(op, dst, result);
  result.dispose();
  return dst;
}

/** dst += other */
export const add_ = (dst: Tensor, other: TensorLike): Tensor => update('add_', dst, other, add);
/** dst -= other */
export const sub_ = (dst: Tensor, other: TensorLike): Tensor => update('sub_', dst, other, sub);
/** dst *= other */
export const mul_ = (dst: Tensor, other: TensorLike): Tensor => update('mul_', dst, other, mul);
/** dst /= other */
export const div_ = (dst: Tensor, other: TensorLike): Tensor => update('div_', dst, other, div);
