// Index-driven ops: gather, indexSelect, oneHot.

import { run } from '../dispatch.js';
import type { DType } from '../dtype.js';
import { ArgumentError, DTypeError, fmtShape, ShapeError } from '../errors.js';
import { checkShape, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, showArg } from './util.js';

function checkIndex(op: string, index: Tensor): void {
  checkTensor(op, index, 'index');
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32, got ${index.dtype}`);
}

/**
 * out[i][j][k] = x[i][index[i][j][k]][k] for axis 1 (PyTorch's `gather`). `index` has x's rank and
 * is no larger than x outside `axis`. Indices out of range throw (CPU).
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor('gather', x);
  checkIndex('gather', index);
  const a = normalizeAxis('gather', axis, x.rank);
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== a && d > x.shape[i])) {
    throw new ShapeError(
      `gather: index ${fmtShape(index.shape)} must have the rank of input ${fmtShape(x.shape)} and fit it outside axis ${axis}`,
    );
  }
  return run('gather', [x, index], { axis: a });
}

/** Picks entries of `axis` by a 1-D int32 index (PyTorch's `index_select`). */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor('indexSelect', x);
  checkIndex('indexSelect', index);
  if (index.rank !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const a = normalizeAxis('indexSelect', axis, x.rank);
  return run('indexSelect', [x, index], { axis: a });
}

/**
 * One-hot encoding of int32 class indices: shape [...indices.shape, numClasses].
 * @example oneHot(tensor([0, 2], { dtype: 'int32' }), 3) // [[1,0,0],[0,0,1]]
 */
export function oneHot(indices: Tensor, numClasses: number, options: { dtype?: DType } = {}): Tensor {
  checkIndex('oneHot', indices);
  if (!Number.isInteger(numClasses) || numClasses <= 0) {
    throw new ArgumentError(`oneHot: numClasses must be a positive integer, got ${showArg(numClasses)}`);
  }
  if (typeof options !== 'object' || options === null)
    throw new ArgumentError(`oneHot: options must be an object, got ${showArg(options)}`);
  checkShape('oneHot', [...indices.shape, numClasses]);
  return run('oneHot', [indices], { numClasses, dtype: options.dtype ?? 'int32' });
}

function checkScatter(op: string, base: Tensor, axis: number, index: Tensor, src: Tensor): number {
  checkTensor(op, base, 'base');
  checkIndex(op, index);
  checkTensor(op, src, 'src');
  if (src.dtype !== base.dtype)
    throw new DTypeError(`${op}: src dtype ${src.dtype} differs from base dtype ${base.dtype}`);
  return normalizeAxis(op, axis, base.rank);
}

/**
 * base + src scattered along `axis`: out[i][index[i][j][k]][k] += src[i][j][k] for axis 1 (the
 * adjoint of `gather`; PyTorch's `scatter_add`). Repeated indices add up. Functional: `base` is
 * not modified.
 */
export function scatterAdd(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const a = checkScatter('scatterAdd', base, axis, index, src);
  if (
    index.rank !== base.rank ||
    index.shape.some((d, i) => d > src.shape[i] || (i !== a && d > base.shape[i]))
  ) {
    throw new ShapeError(
      `scatterAdd: index ${fmtShape(index.shape)} must have the rank of base ${fmtShape(base.shape)}, fit it outside axis ${axis}, and fit src ${fmtShape(src.shape)}`,
    );
  }
  return run('scatterAdd', [base, index, src], { axis: a });
}

/**
 * base + src added at the positions `index` (1-D int32) along `axis` (the adjoint of
 * `indexSelect`; PyTorch's `index_add`). Functional: `base` is not modified.
 */
export function indexAdd(base: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const a = checkScatter('indexAdd', base, axis, index, src);
  const expected = base.shape.map((d, i) => (i === a ? index.shape[0] : d));
  if (index.rank !== 1 || src.rank !== base.rank || src.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `indexAdd: src must be ${fmtShape(expected)} for base ${fmtShape(base.shape)} and 1-D index ${fmtShape(index.shape)}, got ${fmtShape(src.shape)}`,
    );
  }
  return run('indexAdd', [base, index, src], { axis: a });
}
