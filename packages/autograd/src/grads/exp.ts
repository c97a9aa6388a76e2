// d exp(x) = exp(x) dx  (uses the saved output)
import { mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('exp', { save: { outputs: true }, vjp: ({ outputs: [y] }, [g]) => [mul(g, y!)] });
