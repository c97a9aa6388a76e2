// d(a + b) = da + db  (broadcast gradients are summed back to each input's shape)
import { registerGradient } from '../registry.js';
import { sumTo } from './util.js';

registerGradient('add', { vjp: ({ inputShapes: [sa, sb] }, [g]) => [sumTo(g, sa), sumTo(g, sb)] });
