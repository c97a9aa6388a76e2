// d log(1 + x) = dx / (1 + x)
import { add, div } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('log1p', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [div(g, add(x!, 1))] });
