// d scatterAdd(base, axis, index, src) = d base + gather(d out) for src
import { gather } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('scatterAdd', {
  save: { inputs: [1] },
  vjp: ({ inputs: [, index], attrs, needsGrad }, [g]) => [
    g,
    null,
    needsGrad[2] ? gather(g, attrs.axis as number, index!) : null,
  ],
});
