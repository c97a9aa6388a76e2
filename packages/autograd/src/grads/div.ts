// d(a / b) = da / b - a / b^2 db
import { div, mul, neg, square } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('div', {
  save: { inputs: true },
  vjp: ({ inputs: [a, b], inputShapes: [sa, sb], needsGrad }, [g]) => [
    needsGrad[0] ? sumTo(div(g, b!), sa) : null,
    needsGrad[1] ? sumTo(mul(g, neg(div(a!, square(b!)))), sb) : null,
  ],
});
