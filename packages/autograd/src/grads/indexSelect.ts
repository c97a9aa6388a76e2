// d indexSelect(x, axis, index) = dy added back at the selected positions
import { indexAdd, zeros } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('indexSelect', {
  save: { inputs: [1] },
  vjp: ({ inputs: [, index], attrs, inputShapes: [shape] }, [g]) => [
    indexAdd(zeros(shape, { dtype: g.dtype, backend: g.backend }), attrs.axis as number, index!, g),
    null,
  ],
});
