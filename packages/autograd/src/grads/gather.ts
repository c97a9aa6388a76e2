// d gather(x, axis, index) = dy scattered (added) back to the gathered positions
import { scatterAdd, zeros } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('gather', {
  save: { inputs: [1] },
  vjp: ({ inputs: [, index], attrs, inputShapes: [shape] }, [g]) => [
    scatterAdd(zeros(shape, { dtype: g.dtype, backend: g.backend }), attrs.axis as number, index!, g),
    null,
  ],
});
