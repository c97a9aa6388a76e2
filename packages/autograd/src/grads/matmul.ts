// d(A B) = dY B^T for A and A^T dY for B (batch dims summed where they were broadcast)
import { matmul, transpose } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('matmul', {
  save: { inputs: true },
  vjp: ({ inputs: [a, b], inputShapes: [sa, sb], needsGrad }, [g]) => [
    needsGrad[0] ? sumTo(matmul(g, transpose(b!)), sa) : null,
    needsGrad[1] ? sumTo(matmul(transpose(a!), g), sb) : null,
  ],
});
