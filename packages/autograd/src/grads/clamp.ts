// d clamp(x, lo, hi) = [lo <= x <= hi] dx
import { ge, le, logicalAnd, mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('clamp', {
  save: { inputs: true },
  vjp: ({ inputs: [x], attrs }, [g]) => [
    mul(g, logicalAnd(ge(x!, attrs.min as number), le(x!, attrs.max as number))),
  ],
});
