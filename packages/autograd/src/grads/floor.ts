// d floor(x) = 0 (piecewise constant; PyTorch also returns zeros)
import { zerosLike } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('floor', { vjp: (_, [g]) => [zerosLike(g)] });
