// d indexAdd(base, axis, index, src) = d base + indexSelect(d out) for src
import { indexSelect } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('indexAdd', {
  save: { inputs: [1] },
  vjp: ({ inputs: [, index], attrs, needsGrad }, [g]) => [
    g,
    null,
    needsGrad[2] ? indexSelect(g, attrs.axis as number, index!) : null,
  ],
});
