// d erf(x) = 2/sqrt(pi) exp(-x^2) dx
import { exp, mul, neg, square } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('erf', {
  save: { inputs: true },
  vjp: ({ inputs: [x] }, [g]) => [mul(g, mul(exp(neg(square(x!))), 2 / Math.sqrt(Math.PI)))],
});
