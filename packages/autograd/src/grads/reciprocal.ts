// d (1/x) = -1/x^2 dx = -y^2 dx
import { mul, neg, square } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('reciprocal', {
  save: { outputs: true },
  vjp: ({ outputs: [y] }, [g]) => [mul(g, neg(square(y!)))],
});
