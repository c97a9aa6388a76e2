// Matrix products: matmul with NumPy semantics (1-D promotion, broadcast batch dims).

import { run } from '../dispatch.js';
import { promoteTypes } from '../dtype.js';
import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './util.js';
import { reshape } from './view.js';

/**
 * Matrix product. 1-D operands act as a row (left) or column (right) vector and that dim is
 * removed from the result; leading (batch) dims broadcast.
 * @example matmul(randn([8, 3, 4]), randn([4, 5])) // [8,3,5]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', a, 'a');
  checkTensor('matmul', b, 'b');
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(
      `matmul: operands must be at least 1-D, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`,
    );
  }
  if (a.dtype === 'bool' || b.dtype === 'bool')
    throw new DTypeError('matmul: bool tensors are not supported; cast first');
  const x = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const y = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const k = x.shape[x.rank - 1];
  if (y.shape[y.rank - 2] !== k) {
    throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  }
  broadcastShapes('matmul', x.shape.slice(0, -2), y.shape.slice(0, -2));
  const dtype = promoteTypes(a.dtype, b.dtype);
  const [xc, yc] = [x, y].map((t) => (t.dtype === dtype ? t : run('cast', [t], { dtype })));
  const out = run('matmul', [xc, yc]);
  if (a.rank > 1 && b.rank > 1) return out;
  const shape = out.shape.slice(0, -2);
  if (a.rank > 1) shape.push(out.shape[out.rank - 2]);
  if (b.rank > 1) shape.push(out.shape[out.rank - 1]);
  return reshape(out, shape);
}

/** Dot product of two 1-D tensors (0-d result). */
export function dot(a: Tensor, b: Tensor): Tensor {
  checkTensor('dot', a, 'a');
  checkTensor('dot', b, 'b');
  if (a.rank !== 1 || b.rank !== 1 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError(
      `dot: expected two 1-D tensors of one length, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  return matmul(a, b);
}
