// d sin(x) = cos(x) dx
import { cos, mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('sin', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [mul(g, cos(x!))] });
