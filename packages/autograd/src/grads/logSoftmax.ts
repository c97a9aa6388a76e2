// d logSoftmax(x) = dy - softmax(x) sum(dy) along the axis, with softmax(x) = exp(y)
import { exp, mul, sub, sum } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('logSoftmax', {
  save: { outputs: true },
  vjp: ({ outputs: [y], attrs }, [g]) => [
    sub(g, mul(exp(y!), sum(g, attrs.axis as number, { keepDim: true }))),
  ],
});
