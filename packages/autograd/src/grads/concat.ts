// d concat(xs) = the slices of dy that each input filled
import { narrow } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('concat', {
  vjp: ({ attrs, inputShapes }, [g]) => {
    const axis = attrs.axis as number;
    let start = 0;
    return inputShapes.map((shape) => {
      const part = narrow(g, axis, start, shape[axis]);
      start += shape[axis];
      return part;
    });
  },
});
