// d(-x) = -dx
import { neg } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('neg', { vjp: (_, [g]) => [neg(g)] });
