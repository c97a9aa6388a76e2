// d reshape(x) = reshape back(dy): the same numbers in the input's shape
import { reshape } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('reshape', { vjp: ({ inputShapes: [shape] }, [g]) => [reshape(g, shape)] });
