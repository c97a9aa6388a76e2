// d log(x) = dx / x
import { div } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('log', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [div(g, x!)] });
