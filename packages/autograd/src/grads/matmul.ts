// d(A B) = dY B^T for A and A^T dY for B (batch dims summed where they were broadcast). As in
// PyTorch, a 2-D operand stored transposed (a Linear layer's W^T, a view of W) gets its gradient
// in that layout, (dY^T A)^T for B: a contiguous product seen through a transpose, so the gradient
// that reaches W is contiguous (the optimizer would otherwise copy it). The products are the same
// sums in the same order, so the values do not change.
import { matmul, type Tensor, transpose } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

/** A 2-D view whose columns are contiguous (the transpose of a contiguous matrix). */
const columnMajor = (t: Tensor) =>
  t.rank === 2 && t.strides[0] === 1 && t.strides[1] === t.shape[0] && t.shape[0] > 1;

registerGradient('matmul', {
  save: { inputs: true },
  vjp: ({ inputs: [a, b], inputShapes: [sa, sb], needsGrad }, [g]) => {
    const flat = g.rank === 2;
    return [
      needsGrad[0]
        ? flat && columnMajor(a!)
          ? transpose(matmul(b!, transpose(g)))
          : sumTo(matmul(g, transpose(b!)), sa)
        : null,
      needsGrad[1]
        ? flat && columnMajor(b!)
          ? transpose(matmul(transpose(g), a!))
          : sumTo(matmul(transpose(a!), g), sb)
        : null,
    ];
  },
});
