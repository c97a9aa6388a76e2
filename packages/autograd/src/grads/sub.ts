// d(a - b) = da - db
import { neg } from '@softpool/tensor';
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('sub', {
  vjp: ({ inputShapes: [sa, sb], needsGrad }, [g]) => [sumTo(g, sa), needsGrad[1] ? neg(sumTo(g, sb)) : null],
});
