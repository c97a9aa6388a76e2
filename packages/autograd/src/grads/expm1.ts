// d (exp(x) - 1) = exp(x) dx = (y + 1) dx
import { add, mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('expm1', { save: { outputs: true }, vjp: ({ outputs: [y] }, [g]) => [mul(g, add(y!, 1))] });
