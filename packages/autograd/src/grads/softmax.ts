// d softmax(x) = y * (dy - sum(dy * y)) along the axis (the Jacobian diag(y) - y y^T applied to dy)
import { mul, sub, sum } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('softmax', {
  save: { outputs: true },
  vjp: ({ outputs: [y], attrs }, [g]) => [
    mul(y!, sub(g, sum(mul(g, y!), attrs.axis as number, { keepDim: true }))),
  ],
});
