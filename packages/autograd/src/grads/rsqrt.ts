// d x^(-1/2) = -1/2 x^(-3/2) dx = -y^3 / 2 dx
import { mul, pow } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('rsqrt', {
  save: { outputs: true },
  vjp: ({ outputs: [y] }, [g]) => [mul(g, mul(pow(y!, 3), -0.5))],
});
