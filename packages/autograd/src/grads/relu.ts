// d relu(x) = [x > 0] dx (0 at x = 0, as in PyTorch), one fused op. reluBackward(g, x) is linear in
// g with the same mask, and piecewise constant in x (zero gradient).
import { reluBackward } from '@softpool/tensor';
import { registerGradient } from '../registry.js';

registerGradient('relu', { save: { inputs: true }, vjp: ({ inputs: [x] }, [g]) => [reluBackward(g, x!)] });

registerGradient('reluBackward', {
  save: { inputs: [1] },
  vjp: ({ inputs: [, x] }, [gg]) => [reluBackward(gg, x!), null],
});
