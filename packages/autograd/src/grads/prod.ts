// d prod(x) / dx_i = product of the other elements (computed without dividing by zero)
import { div, eq, expand, mul, prod, reshape, sum, where } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { keptShape } from './util.js';

registerGradient('prod', {
  save: { inputs: true },
  vjp: ({ inputs: [x], attrs, inputShapes: [shape] }, [g]) => {
    const axes = attrs.axes as number[];
    const kept = keptShape(shape, axes);
    const isZero = eq(x!, 0);
    const zerosInSlice = expand(sum(isZero, axes, { keepDim: true }), shape);
    // Product of the nonzero elements of each slice, then of all others for element i:
    // no zero in the slice -> p / x_i; exactly one zero -> p at the zero, 0 elsewhere; more -> 0.
    const p = expand(prod(where(isZero, 1, x!), axes, { keepDim: true }), shape);
    const others = where(
      eq(zerosInSlice, 0),
      div(p, where(isZero, 1, x!)),
      where(eq(zerosInSlice, 1), where(isZero, p, 0), 0),
    );
    return [mul(expand(reshape(g, kept), shape), others)];
  },
});
