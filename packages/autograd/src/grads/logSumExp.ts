// d logSumExp(x) = softmax(x) dx = exp(x - y) dx
import { exp, expand, mul, reshape, sub } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('logSumExp', {
  save: { inputs: true, outputs: true },
  vjp: ({ inputs: [x], outputs: [y], attrs, inputShapes: [shape] }, [g]) => {
    const kept = shape.map((d, i) => (i === attrs.axis ? 1 : d));
    const yk = expand(reshape(y!, kept), shape);
    return [mul(expand(reshape(g, kept), shape), exp(sub(x!, yk)))];
  },
});
