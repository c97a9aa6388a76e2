// d cos(x) = -sin(x) dx
import { mul, neg, sin } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('cos', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [mul(g, neg(sin(x!)))] });
