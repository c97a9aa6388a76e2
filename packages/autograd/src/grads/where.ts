// d where(c, a, b) = [c] da + [not c] db; the condition has no gradient
import { where } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('where', {
  save: { inputs: [0] },
  vjp: ({ inputs: [c], inputShapes: [, sa, sb], needsGrad }, [g]) => [
    null,
    needsGrad[1] ? sumTo(where(c!, g, 0), sa) : null,
    needsGrad[2] ? sumTo(where(c!, 0, g), sb) : null,
  ],
});
