// d sum(x) = dx summed: every input element gets the gradient of the sum it fed
import { expand, reshape } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { keptShape } from './util.js';

registerGradient('sum', {
  vjp: ({ attrs, inputShapes: [shape] }, [g]) => [
    expand(reshape(g, keptShape(shape, attrs.axes as number[])), shape),
  ],
});
