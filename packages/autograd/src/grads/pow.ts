// d(a^b) = b a^(b-1) da + a^b log(a) db  (the db term is 0 where a = 0, as in PyTorch)
import { eq, log, mul, pow, sub, where } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('pow', {
  save: { inputs: true, outputs: true },
  vjp: ({ inputs: [a, b], outputs: [y], inputShapes: [sa, sb], needsGrad }, [g]) => [
    needsGrad[0] ? sumTo(mul(g, mul(b!, pow(a!, sub(b!, 1)))), sa) : null,
    needsGrad[1] ? sumTo(mul(g, where(eq(a!, 0), 0, mul(y!, log(where(eq(a!, 0), 1, a!))))), sb) : null,
  ],
});
