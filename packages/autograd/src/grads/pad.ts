// d pad(x) = the interior of dy (constant), or dy folded back onto the copied edges (reflect, replicate)
import { narrow, type PadMode, padBackward, type Tensor } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('pad', {
  vjp: ({ attrs, inputShapes: [shape] }, [g]) => {
    const before = attrs.before as number[];
    const after = attrs.after as number[];
    if (attrs.mode !== 'constant') return [padBackward(g, shape, before, after, attrs.mode as PadMode)];
    let interior: Tensor = g;
    shape.forEach((n, d) => {
      interior = narrow(interior, d, before[d], n);
    });
    return [interior];
  },
});
