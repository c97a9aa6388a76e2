// d softPool: w_i (1 + (a_i - y)/T) per window ('exact'), or w_i ('paper'), gathered per input
import { registerGradient } from '@softpool/autograd';
import { run, type Tensor } from '@softpool/tensor';

registerGradient('softPool', {
  save: { inputs: true, outputs: true },
  // outputs: y and the per-window statistics (max and sum of exponentials).
  vjp: ({ inputs: [x], outputs, attrs }, [g]) => [
    run('softPoolBackward', [g, x!, ...(outputs as Tensor[])], attrs),
  ],
});
