// d(a b) = b da + a db
import { mul } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('mul', {
  save: { inputs: true },
  vjp: ({ inputs: [a, b], inputShapes: [sa, sb], needsGrad }, [g]) => [
    needsGrad[0] ? sumTo(mul(g, b!), sa) : null,
    needsGrad[1] ? sumTo(mul(g, a!), sb) : null,
  ],
});
