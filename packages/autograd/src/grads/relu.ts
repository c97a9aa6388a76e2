// d relu(x) = [x > 0] dx (0 at x = 0, as in PyTorch)
import { gt, mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('relu', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [mul(g, gt(x!, 0))] });
