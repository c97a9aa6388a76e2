// d maxPool: the window's gradient goes to its (first) maximum
import { registerGradient } from '@softpool/autograd';
import { run } from '@softpool/tensor';

registerGradient('maxPool', {
  save: { inputs: true, outputs: true },
  vjp: ({ inputs: [x], outputs: [, indices], attrs }, [g]) => [
    run('maxPoolBackward', [g, x!, indices!], attrs),
  ],
});
