// d sqrt(x) = dx / (2 sqrt(x))
import { div, mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('sqrt', { save: { outputs: true }, vjp: ({ outputs: [y] }, [g]) => [div(mul(g, 0.5), y!)] });
