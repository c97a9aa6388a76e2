// d expand(x) = dy summed over the broadcast dims
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('expand', { vjp: ({ inputShapes: [shape] }, [g]) => [sumTo(g, shape)] });
