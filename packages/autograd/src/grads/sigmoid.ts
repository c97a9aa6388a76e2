// d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx
import { mul, sub } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('sigmoid', {
  save: { outputs: true },
  vjp: ({ outputs: [y] }, [g]) => [mul(g, mul(y!, sub(1, y!)))],
});
