// d x^2 = 2x dx
import { mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('square', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [mul(g, mul(x!, 2))] });
