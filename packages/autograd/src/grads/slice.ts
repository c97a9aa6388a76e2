// d slice(x) = dy placed where the slice came from, zeros elsewhere
import { sliceBackward } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('slice', {
  vjp: ({ attrs, inputShapes: [shape] }, [g]) => [
    sliceBackward(g, shape, attrs.starts as number[], attrs.steps as number[]),
  ],
});
