// d|x| = sign(x) dx (0 at x = 0, as in PyTorch)
import { mul, sign } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('abs', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [mul(g, sign(x!))] });
