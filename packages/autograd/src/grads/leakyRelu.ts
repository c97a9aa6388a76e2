// d leakyRelu(x) = (x > 0 ? 1 : slope) dx
import { gt, mul, where } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('leakyRelu', {
  save: { inputs: true },
  vjp: ({ inputs: [x], attrs }, [g]) => [mul(g, where(gt(x!, 0), 1, attrs.negativeSlope as number))],
});
