// d tanh(x) = (1 - tanh(x)^2) dx
import { mul, square, sub } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('tanh', {
  save: { outputs: true },
  vjp: ({ outputs: [y] }, [g]) => [mul(g, sub(1, square(y!)))],
});
