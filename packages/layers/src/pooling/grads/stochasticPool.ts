// d stochasticPool: the window's gradient goes to the sampled tap (as max pooling's to its maximum)
import { registerGradient } from '@softpool/autograd';
import { run } from '@softpool/tensor';

registerGradient('stochasticPool', {
  save: { inputs: [0], outputs: true },
  vjp: ({ inputs: [x], outputs: [, indices], attrs }, [g]) => [
    run('maxPoolBackward', [g, x!, indices!], attrs),
    null,
  ],
});
